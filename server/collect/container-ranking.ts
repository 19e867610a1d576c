/** Listed per ranking: the top this many by CPU, and by memory. */
export const CONTAINERS_PER_RANKING = 8;

/** What the rankings read of a container. */
export interface Ranked {
  cpu: number | null;
  memory: number | null;
}

/**
 * The busiest by CPU, then the largest by memory not already listed, up to twice `perRanking`: either
 * ranking's top `perRanking` is always in. Ties keep the order of `all`. Each ranking is a selection of its
 * few into a short array, not a sort of every container.
 */
export function topContainers<T extends Ranked>(all: readonly T[], perRanking = CONTAINERS_PER_RANKING): T[] {
  const byCpu = selectTop(all, perRanking, busier, null);
  const byMemory = selectTop(all, 2 * perRanking - byCpu.length, larger, byCpu);
  return byCpu.concat(byMemory);
}

/** The first `count` of `all` in the order `ranksBefore` says, skipping `excluded`; ties in the order of `all`. */
function selectTop<T>(all: readonly T[], count: number, ranksBefore: (a: T, b: T) => boolean, excluded: readonly T[] | null): T[] {
  const chosen: T[] = [];
  if (count <= 0) return chosen;
  for (const item of all) {
    if (chosen.length === count && !ranksBefore(item, chosen[count - 1] as T)) continue;
    if (excluded?.includes(item)) continue;
    let at = chosen.length;
    while (at > 0 && ranksBefore(item, chosen[at - 1] as T)) at--;
    chosen.splice(at, 0, item);
    if (chosen.length > count) chosen.pop();
  }
  return chosen;
}

/** More CPU, or as much and more memory; a figure missing ranks below every figure. */
function busier(a: Ranked, b: Ranked): boolean {
  const cpuA = a.cpu ?? -1;
  const cpuB = b.cpu ?? -1;
  return cpuA > cpuB || (cpuA === cpuB && (a.memory ?? -1) > (b.memory ?? -1));
}

function larger(a: Ranked, b: Ranked): boolean {
  return (a.memory ?? -1) > (b.memory ?? -1);
}
