import type { Topic } from '../protocol.js';
import type { LatencyBuckets } from './latency-buckets.js';

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
