import type { LatencySummary } from '../protocol.js';

/**
 * The occupied buckets of an HdrHistogram of request latencies: `v` the bucket values in microseconds
 * (ascending), `c` their counts. Merging two is adding counts bucket by bucket, which is what
 * HdrHistogram's own `add` does, so the percentile of merged buckets is the percentile of all the requests
 * of the minute or hour (within the histogram's precision), not a mean of per-second percentiles.
 */
export interface LatencyBuckets {
  v: number[];
  c: number[];
}

export function mergeBuckets(parts: readonly LatencyBuckets[]): LatencyBuckets | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0] as LatencyBuckets;
  const counts = new Map<number, number>();
  for (const part of parts) {
    for (let i = 0; i < part.v.length; i++) {
      const value = part.v[i] as number;
      counts.set(value, (counts.get(value) ?? 0) + (part.c[i] as number));
    }
  }
  const v = [...counts.keys()].sort((a, b) => a - b);
  return { v, c: v.map((value) => counts.get(value) as number) };
}

/** The value at a percentile (0..100), in ms: the first bucket where the running count reaches it, as HdrHistogram does. */
export function percentileOf(buckets: LatencyBuckets, percentile: number): number {
  let total = 0;
  for (const count of buckets.c) total += count;
  if (total === 0) return 0;
  const wanted = Math.max(1, Math.ceil((percentile / 100) * total));
  let running = 0;
  for (let i = 0; i < buckets.v.length; i++) {
    running += buckets.c[i] as number;
    if (running >= wanted) return round3((buckets.v[i] as number) / 1000);
  }
  return round3((buckets.v[buckets.v.length - 1] as number) / 1000);
}

/** p50 / p90 / p99 of the merged buckets; `max` is left to the caller (the exact per-tick maxima are kept). */
export function summaryOf(buckets: LatencyBuckets): Omit<LatencySummary, 'max'> {
  return { p50: percentileOf(buckets, 50), p90: percentileOf(buckets, 90), p99: percentileOf(buckets, 99) };
}

export function isLatencyBuckets(value: unknown): value is LatencyBuckets {
  if (value === null || typeof value !== 'object') return false;
  const { v, c } = value as { v?: unknown; c?: unknown };
  return (
    Array.isArray(v) &&
    Array.isArray(c) &&
    v.length === c.length &&
    v.every((n) => typeof n === 'number' && Number.isFinite(n)) &&
    c.every((n) => Number.isInteger(n) && (n as number) >= 0)
  );
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
