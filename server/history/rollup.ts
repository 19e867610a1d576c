import type { Topic } from '../protocol.js';
import { flatten, unflatten } from './flat.js';
import { type LatencyBuckets, mergeBuckets, summaryOf } from './latency-buckets.js';

/** One sample as the store keeps it: the sample itself and, for `requests`, the tick's latency buckets. */
export interface RawRow {
  sample: { t: number } & object;
  buckets?: LatencyBuckets;
}

export interface PathStats {
  sum: number;
  min: number;
  max: number;
  /** Samples that had this path. */
  count: number;
}

/** A downsampled row: every numeric path's min, max and sum over `n` samples from `t` to `t + step`. */
export interface Aggregate {
  t: number;
  n: number;
  paths: Map<string, PathStats>;
  /** Non-numeric values (lists of mounts, sensors, the traffic source): the newest in the bucket. */
  others: Map<string, unknown>;
  /** Request latency of every request in the bucket, merged. */
  buckets: LatencyBuckets | null;
}

/** Counts and bytes: a coarse row shows their sum over the bucket, not their mean. */
const SUMMED: Partial<Record<Topic, (path: string) => boolean>> = {
  requests: (path) => path === 'count' || path === 'bytes' || path.startsWith('status.'),
};

export function isSummed(topic: Topic, path: string): boolean {
  return SUMMED[topic]?.(path) ?? false;
}

/** A single sample as a bucket of one. */
export function aggregateOf(row: RawRow): Aggregate {
  const flat = flatten(row.sample);
  const paths = new Map<string, PathStats>();
  for (const [path, value] of flat.numbers) paths.set(path, { sum: value, min: value, max: value, count: 1 });
  return { t: row.sample.t, n: 1, paths, others: flat.others, buckets: row.buckets ?? null };
}

/** Samples (oldest first) into buckets of `step` ms aligned to the epoch. */
export function rollupRaw(rows: readonly RawRow[], step: number): Aggregate[] {
  return rollup(rows.map(aggregateOf), step);
}

/** Buckets (oldest first) into coarser buckets of `step` ms aligned to the epoch: a multiple of theirs. */
export function rollup(rows: readonly Aggregate[], step: number): Aggregate[] {
  const result: Aggregate[] = [];
  let current: Aggregate | null = null;
  let parts: LatencyBuckets[] = [];
  const close = () => {
    if (!current) return;
    current.buckets = mergeBuckets(parts);
    result.push(current);
  };
  for (const row of rows) {
    const start = Math.floor(row.t / step) * step;
    if (!current || current.t !== start) {
      close();
      current = { t: start, n: 0, paths: new Map(), others: new Map(), buckets: null };
      parts = [];
    }
    current.n += row.n;
    for (const [path, stats] of row.paths) {
      const into = current.paths.get(path);
      if (!into) current.paths.set(path, { ...stats });
      else {
        into.sum += stats.sum;
        into.count += stats.count;
        if (stats.min < into.min) into.min = stats.min;
        if (stats.max > into.max) into.max = stats.max;
      }
    }
    for (const [key, value] of row.others) current.others.set(key, value);
    if (row.buckets) parts.push(row.buckets);
  }
  close();
  return result;
}

/** What a chart draws of a bucket: the mean (sums for counts and bytes, merged percentiles for latency), the min and the max. */
export function present(
  topic: Topic,
  row: Aggregate,
): { mean: Record<string, unknown>; min: Record<string, unknown>; max: Record<string, unknown> } {
  const mean: [string, number][] = [];
  const min: [string, number][] = [];
  const max: [string, number][] = [];
  for (const [path, stats] of row.paths) {
    mean.push([path, isSummed(topic, path) ? stats.sum : Number((stats.sum / stats.count).toPrecision(6))]);
    min.push([path, stats.min]);
    max.push([path, stats.max]);
  }
  const meanRow = unflatten(row.t, mean, row.others);
  if (topic === 'requests' && row.buckets) {
    const latency = meanRow.latency as Record<string, number> | undefined;
    // p50/p90/p99 of every request of the bucket; max stays the largest per-tick max (exact, not bucketed).
    if (latency) Object.assign(latency, summaryOf(row.buckets), { max: row.paths.get('latency.max')?.max ?? 0 });
  }
  return { mean: meanRow, min: unflatten(row.t, min, row.others), max: unflatten(row.t, max, row.others) };
}
