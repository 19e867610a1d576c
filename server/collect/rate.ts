/**
 * Counter arithmetic for rates. Kernel counters only grow, except when they wrap or the device is
 * reset; then the new value is the best estimate of what happened since, and it is never negative.
 */
export function counterDelta(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/** Per-second rate between two readings; 0 when no time has passed. */
export function perSecond(previous: number, current: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  return (counterDelta(previous, current) * 1000) / elapsedMs;
}

/** Remembers the last reading of a set of named counters and turns the next one into rates. */
export class CounterRates<K extends string> {
  private last: { at: number; values: Map<string, Record<K, number>> } | null = null;

  /** Stores the reading; returns the rates since the previous one, or null for the first reading. */
  update(at: number, values: Map<string, Record<K, number>>): Map<string, Record<K, number>> | null {
    const previous = this.last;
    this.last = { at, values };
    if (!previous) return null;
    const elapsed = at - previous.at;
    const rates = new Map<string, Record<K, number>>();
    for (const [name, current] of values) {
      const before = previous.values.get(name);
      const rate = {} as Record<K, number>;
      for (const key of Object.keys(current) as K[]) rate[key] = before ? perSecond(before[key], current[key], elapsed) : 0;
      rates.set(name, rate);
    }
    return rates;
  }
}
