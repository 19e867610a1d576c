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

/** Buckets read in place (typed array views of a block's bucket columns, or plain arrays). */
export interface BucketsView {
  v: ArrayLike<number>;
  c: ArrayLike<number>;
}

/**
 * The latency buckets of a block's rows packed in two typed arrays (row i's are [offsets[i], offsets[i + 1])):
 * a few bytes per bucket instead of two arrays per row.
 */
export interface BucketColumns {
  offsets: Uint32Array;
  v: Uint32Array;
  c: Uint32Array;
}

/** Row `row`'s buckets in packed columns, named without a view of them (a merge copies them anyway). */
export interface BucketsAt {
  columns: BucketColumns;
  row: number;
}

/** Packs per-row buckets (`deltas`: values stored as differences, as in a segment). */
export function packBuckets(rows: readonly (BucketsView | null | undefined)[], deltas = false): BucketColumns | null {
  let total = 0;
  let any = false;
  for (const row of rows) {
    if (!row) continue;
    any = true;
    total += row.v.length;
  }
  if (!any) return null;
  const offsets = new Uint32Array(rows.length + 1);
  const v = new Uint32Array(total);
  const c = new Uint32Array(total);
  let at = 0;
  rows.forEach((row, i) => {
    offsets[i] = at;
    if (!row) return;
    let value = 0;
    for (let k = 0; k < row.v.length; k++) {
      value = deltas ? value + (row.v[k] as number) : (row.v[k] as number);
      v[at] = value;
      c[at] = row.c[k] as number;
      at++;
    }
  });
  offsets[rows.length] = at;
  return { offsets, v, c };
}

/** Row i's buckets as views into the packed arrays, or null for a row without requests. */
export function bucketsViewAt(columns: BucketColumns, i: number): BucketsView | null {
  const start = columns.offsets[i] as number;
  const end = columns.offsets[i + 1] as number;
  if (start === end) return null;
  return { v: columns.v.subarray(start, end), c: columns.c.subarray(start, end) };
}

export function bucketsAt(columns: BucketColumns | null, i: number): LatencyBuckets | null {
  const view = columns && bucketsViewAt(columns, i);
  return view ? { v: Array.from(view.v), c: Array.from(view.c) } : null;
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
export function percentileOf(buckets: BucketsView, percentile: number): number {
  let total = 0;
  for (let i = 0; i < buckets.c.length; i++) total += buckets.c[i] as number;
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
export function summaryOf(buckets: BucketsView): Omit<LatencySummary, 'max'> {
  return summaryIn(buckets.v, buckets.c, 0, buckets.v.length);
}

/**
 * p50 / p90 / p99 of row `row`'s buckets read in place from packed columns (as `summaryOf` of its view,
 * in one walk and without a view: a month's answer reads ~200 000 buckets), or null for a row without requests.
 */
export function summaryAt(columns: BucketColumns, row: number): Omit<LatencySummary, 'max'> | null {
  const start = columns.offsets[row] as number;
  const end = columns.offsets[row + 1] as number;
  return start === end ? null : summaryIn(columns.v, columns.c, start, end);
}

/** p50 / p90 / p99 (as `percentileOf` each) of the buckets at [start, end) of `v` and `c`, in one walk. */
function summaryIn(v: ArrayLike<number>, c: ArrayLike<number>, start: number, end: number): Omit<LatencySummary, 'max'> {
  let total = 0;
  for (let i = start; i < end; i++) total += c[i] as number;
  if (total === 0) return { p50: 0, p90: 0, p99: 0 };
  const wanted50 = Math.max(1, Math.ceil(0.5 * total));
  const wanted90 = Math.max(1, Math.ceil(0.9 * total));
  const wanted99 = Math.max(1, Math.ceil(0.99 * total));
  let p50 = -1;
  let p90 = -1;
  let running = 0;
  for (let i = start; i < end; i++) {
    running += c[i] as number;
    if (p50 < 0 && running >= wanted50) p50 = v[i] as number;
    if (p90 < 0 && running >= wanted90) p90 = v[i] as number;
    if (running >= wanted99) return { p50: round3(p50 / 1000), p90: round3(p90 / 1000), p99: round3((v[i] as number) / 1000) };
  }
  const last = v[end - 1] as number;
  return { p50: round3((p50 < 0 ? last : p50) / 1000), p90: round3((p90 < 0 ? last : p90) / 1000), p99: round3(last / 1000) };
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

/** Sub-buckets per power of two at HdrHistogram's 2 significant digits: every value within 1/128 (< 0.8 %). */
const STORED_SUB_BUCKETS = 128;

/**
 * The buckets as segments store them: HdrHistogram's 2-significant-digit layout (each value moved to the
 * top of its 2-digit bucket, counts of the buckets that meet added). The live histograms keep 3 digits;
 * on disk 2 digits are a third of the size and still within 1 %, and merging them is still adding counts.
 */
export function toStoredPrecision(buckets: BucketsView): LatencyBuckets {
  const v: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < buckets.v.length; i++) {
    const value = twoDigitBucketTop(buckets.v[i] as number);
    if (v.length > 0 && v[v.length - 1] === value) c[c.length - 1] = (c[c.length - 1] as number) + (buckets.c[i] as number);
    else {
      v.push(value);
      c.push(buckets.c[i] as number);
    }
  }
  return { v, c };
}

function twoDigitBucketTop(value: number): number {
  if (value < 2 * STORED_SUB_BUCKETS) return value;
  const width = 2 ** (Math.floor(Math.log2(value)) - Math.log2(STORED_SUB_BUCKETS));
  return Math.floor(value / width) * width + width - 1;
}

/** On disk `v` holds the differences between consecutive values (the first is the value): gzip packs them far better. */
export function toDeltas(buckets: LatencyBuckets): LatencyBuckets {
  return { v: buckets.v.map((value, i) => (i === 0 ? value : value - (buckets.v[i - 1] as number))), c: buckets.c };
}

export function fromDeltas(buckets: LatencyBuckets): LatencyBuckets {
  const v: number[] = [];
  let value = 0;
  for (const delta of buckets.v) {
    value += delta;
    v.push(value);
  }
  return { v, c: buckets.c };
}

/**
 * Each row's parts (buckets with ascending values) merged into one row, all rows packed into typed arrays.
 * A row's parts are merged two by two, round after round (log2 of the parts rounds, each a linear walk),
 * between two scratch arrays reused for every row: merging into fresh arrays cost ~150 MB of garbage per
 * 7-day query (9 minutes merged per row, ~120 buckets each), and walking all parts side by side costs
 * parts x buckets per row.
 */
export function mergeBucketRows(rows: readonly (readonly BucketsAt[])[]): BucketColumns | null {
  let capacity = 0;
  let widest = 0;
  let any = false;
  for (const parts of rows) {
    let total = 0;
    for (const { columns, row } of parts) total += (columns.offsets[row + 1] as number) - (columns.offsets[row] as number);
    capacity += total;
    widest = Math.max(widest, total);
    if (parts.length > 0) any = true;
  }
  if (!any) return null;
  const offsets = new Uint32Array(rows.length + 1);
  const v = new Uint32Array(capacity);
  const c = new Uint32Array(capacity);
  const scratch = new RowScratch(widest);
  let at = 0;
  rows.forEach((parts, r) => {
    offsets[r] = at;
    const only = parts.length === 1 ? (parts[0] as BucketsAt) : null;
    at = only ? copyRow(only, v, c, at) : scratch.merge(parts, v, c, at);
  });
  offsets[rows.length] = at;
  return { offsets, v: v.slice(0, at), c: c.slice(0, at) };
}

/** A row that is one part as it is (its buckets are already in order): copied into v and c from `at`; returns the end. */
function copyRow({ columns, row }: BucketsAt, v: Uint32Array, c: Uint32Array, at: number): number {
  const first = columns.offsets[row] as number;
  const last = columns.offsets[row + 1] as number;
  v.set(columns.v.subarray(first, last), at);
  c.set(columns.c.subarray(first, last), at);
  return at + last - first;
}

/** Two pairs of value and count arrays that a row's merge rounds write into in turn, and the lists' bounds in them. */
class RowScratch {
  private readonly values: [Float64Array, Float64Array];
  private readonly counts: [Float64Array, Float64Array];
  private bounds: number[] = [];

  constructor(size: number) {
    this.values = [new Float64Array(size), new Float64Array(size)];
    this.counts = [new Float64Array(size), new Float64Array(size)];
  }

  /** Merges the parts into v and c from `at`; returns the end. */
  merge(parts: readonly BucketsAt[], v: Uint32Array, c: Uint32Array, at: number): number {
    let side = 0;
    const bounds = [0];
    let end = 0;
    const values = this.values[0] as Float64Array;
    const counts = this.counts[0] as Float64Array;
    for (const { columns, row } of parts) {
      const last = columns.offsets[row + 1] as number;
      for (let i = columns.offsets[row] as number; i < last; i++) {
        values[end] = columns.v[i] as number;
        counts[end] = columns.c[i] as number;
        end++;
      }
      bounds.push(end);
    }
    this.bounds = bounds;
    while (this.bounds.length > 2) {
      this.round(side);
      side = 1 - side;
    }
    const merged = this.values[side] as Float64Array;
    const mergedCounts = this.counts[side] as Float64Array;
    const last = this.bounds[this.bounds.length - 1] as number;
    for (let i = 0; i < last; i++) {
      v[at] = merged[i] as number;
      c[at] = mergedCounts[i] as number;
      at++;
    }
    return at;
  }

  /** One round: lists 0 and 1, 2 and 3, ... of side `from` merged into the other side (equal values: counts added). */
  private round(from: number): void {
    const inV = this.values[from] as Float64Array;
    const inC = this.counts[from] as Float64Array;
    const outV = this.values[1 - from] as Float64Array;
    const outC = this.counts[1 - from] as Float64Array;
    const bounds = this.bounds;
    const next = [0];
    let out = 0;
    for (let list = 0; list + 1 < bounds.length; list += 2) {
      let i = bounds[list] as number;
      const iEnd = bounds[list + 1] as number;
      let j = iEnd;
      const jEnd = list + 2 < bounds.length ? (bounds[list + 2] as number) : iEnd;
      while (i < iEnd || j < jEnd) {
        const x = i < iEnd ? (inV[i] as number) : Number.POSITIVE_INFINITY;
        const y = j < jEnd ? (inV[j] as number) : Number.POSITIVE_INFINITY;
        if (x === y) {
          outV[out] = x;
          outC[out] = (inC[i++] as number) + (inC[j++] as number);
        } else if (x < y) {
          outV[out] = x;
          outC[out] = inC[i++] as number;
        } else {
          outV[out] = y;
          outC[out] = inC[j++] as number;
        }
        out++;
      }
      next.push(out);
    }
    this.bounds = next;
  }
}
