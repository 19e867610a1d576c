/** The fastest of `repeats` runs of `fn(input)`, in ms: the least disturbed by GC and the JIT. */
function fastestRun(fn: (input: string) => unknown, input: string, repeats: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    fn(input);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** Runs below this are timer and scheduling noise, not work: growth is measured against at least this. */
const NOISE_FLOOR_MS = 0.05;

/**
 * How much longer `fn` takes on an input 8 times as long: about 8 (or less) when the work is linear in the
 * input's length, about 64 when it is quadratic. No wall-clock bound: a ratio of two runs on this machine.
 * A ratio past the bound is measured again (up to `tries` times) and the least is kept: a pause of the
 * machine inflates one measurement, while quadratic work is past the bound every time.
 */
export function growthOver8x(
  fn: (input: string) => unknown,
  inputOfLength: (n: number) => string,
  n = 2000,
  repeats = 5,
  tries = 3,
): number {
  let least = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < tries && least >= LINEAR_GROWTH_BOUND; attempt++) {
    const small = fastestRun(fn, inputOfLength(n), repeats);
    const large = fastestRun(fn, inputOfLength(8 * n), repeats);
    least = Math.min(least, large / Math.max(small, NOISE_FLOOR_MS));
  }
  return least;
}

/** Linear work gives about 8 and quadratic about 64; this sits where only a blow-up crosses it. */
export const LINEAR_GROWTH_BOUND = 24;
