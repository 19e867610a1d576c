import type { SeriesKey } from './metrics.js';

/**
 * Bounded time series: one fixed-size ring of (time, value) per metric, sized at start for the longest
 * window the page offers. Memory does not grow with uptime: a week-long wall screen holds what an hour holds.
 */
export class Ring {
  readonly times: Float64Array;
  readonly values: Float64Array;
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(t: number, value: number): void {
    // Samples arrive in time order; an older one (a replay overlap) would fold the chart back on itself.
    if (this.size > 0 && t <= (this.times[(this.start + this.size - 1) % this.capacity] as number)) return;
    const slot = (this.start + this.size) % this.capacity;
    this.times[slot] = t;
    this.values[slot] = value;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }

  clear(): void {
    this.start = 0;
    this.size = 0;
  }

  /**
   * The points of `older` from before the oldest held, put in front of what is held (older samples of a live
   * window than the backfill brought). Past the capacity the oldest go, as when pushed one by one.
   */
  prepend(older: Ring): void {
    const first = this.firstTime();
    const count = this.size;
    const times = new Float64Array(count);
    const values = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const slot = (this.start + i) % this.capacity;
      times[i] = this.times[slot] as number;
      values[i] = this.values[slot] as number;
    }
    this.clear();
    for (let i = 0; i < older.size; i++) {
      const slot = (older.start + i) % older.capacity;
      const t = older.times[slot] as number;
      if (t >= first) break;
      this.push(t, older.values[slot] as number);
    }
    for (let i = 0; i < count; i++) this.push(times[i] as number, values[i] as number);
  }

  /** Time of the oldest point held; Infinity when empty. */
  firstTime(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : (this.times[this.start] as number);
  }

  last(): { t: number; value: number } | null {
    if (this.size === 0) return null;
    const slot = (this.start + this.size - 1) % this.capacity;
    return { t: this.times[slot] as number, value: this.values[slot] as number };
  }

  /** Points newer than `t`, oldest first; walks back from the newest, so a draw costs what arrived since. */
  pointsAfter(t: number): { x: number; y: number }[] {
    const points: { x: number; y: number }[] = [];
    for (let i = this.size - 1; i >= 0; i--) {
      const slot = (this.start + i) % this.capacity;
      const time = this.times[slot] as number;
      if (time <= t) break;
      points.push({ x: time, y: this.values[slot] as number });
    }
    return points.reverse();
  }

  /** Points with time >= `since`, oldest first, as Chart.js wants them (`parsing: false`). */
  pointsSince(since: number): { x: number; y: number }[] {
    const points: { x: number; y: number }[] = [];
    for (let i = 0; i < this.size; i++) {
      const slot = (this.start + i) % this.capacity;
      const t = this.times[slot] as number;
      if (t >= since) points.push({ x: t, y: this.values[slot] as number });
    }
    return points;
  }
}

export class SeriesStore {
  private readonly rings = new Map<SeriesKey, Ring>();

  constructor(readonly capacity: number) {}

  ring(key: SeriesKey): Ring {
    let ring = this.rings.get(key);
    if (!ring) {
      ring = new Ring(this.capacity);
      this.rings.set(key, ring);
    }
    return ring;
  }

  push(key: SeriesKey, t: number, value: number): void {
    if (Number.isFinite(value)) this.ring(key).push(t, value);
  }

  /** A column of values at the times of `times` (a backfill's), as `push` would take them one by one. */
  pushColumn(key: SeriesKey, times: readonly unknown[], values: readonly unknown[]): void {
    const ring = this.ring(key);
    for (let i = 0; i < times.length; i++) {
      const t = times[i];
      const value = values[i];
      if (typeof t === 'number' && typeof value === 'number' && Number.isFinite(value)) ring.push(t, value);
    }
  }

  /** The ring of a key if one is held; takes any string (diagnostics): a key nothing stores has none. */
  find(key: string): Ring | undefined {
    return this.rings.get(key as SeriesKey);
  }

  points(key: string): number {
    return this.find(key)?.length ?? 0;
  }

  clear(): void {
    for (const ring of this.rings.values()) ring.clear();
  }

  /** Every ring of `older` put in front of this store's ring of the same key (`Ring.prepend`). */
  prepend(older: SeriesStore): void {
    for (const [key, ring] of older.rings) this.ring(key).prepend(ring);
  }
}

/** Points kept per metric: the longest window at the server's interval, within sane bounds. */
export function capacityFor(longestWindowMs: number, intervalMs: number): number {
  return Math.min(20_000, Math.max(60, Math.ceil(longestWindowMs / Math.max(intervalMs, 1)) + 1));
}
