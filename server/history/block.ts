import type { Topic } from '../protocol.js';
import { FlatPaths } from './flat.js';
import { type BucketColumns, type BucketsAt, type LatencyBuckets, mergeBucketRows, packBuckets } from './latency-buckets.js';
import { isSummed, type RawRow } from './rollup.js';
import type { ChunkLine } from './segment.js';

/**
 * Rows of one topic held column by column in typed arrays: what a segment chunk decodes to, what the
 * open hour is kept as, and what a query merges. One array per numeric path instead of one object per
 * row keeps the decoded segments small in memory and merging them free of per-row allocations.
 */
export interface Block {
  topic: Topic;
  length: number;
  /** Row times: the sample's time (raw) or the bucket's start. */
  t: Float64Array;
  /** Samples per row: 1 for raw rows. */
  n: Float64Array;
  paths: string[];
  /** Per path: the value (raw), or the bucket's mean (its sum for counts and bytes). NaN where a row lacks the path. */
  value: Float64Array[];
  /** Per path, downsampled rows only (raw rows: the value is the min and the max). */
  min: Float64Array[] | null;
  max: Float64Array[] | null;
  /** Non-numeric values by key, per row (undefined where a row lacks it). */
  others: Map<string, unknown[]>;
  /** Request latency buckets per row (requests only). */
  buckets: BucketColumns | null;
}

function toColumn(values: readonly (number | null)[]): Float64Array {
  const column = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) column[i] = values[i] ?? Number.NaN;
  return column;
}

/** The counts' rows that have the path, the others NaN (plain loops: typed-array `from` with a mapper is slow). */
function presentOnly(values: readonly number[], counts: readonly number[], map: (value: number, count: number) => number): Float64Array {
  const column = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const count = counts[i] as number;
    column[i] = count === 0 ? Number.NaN : map(values[i] as number, count);
  }
  return column;
}

const same = (value: number) => value;

/** A decoded segment chunk. */
export function blockOfChunk(line: ChunkLine): Block {
  const length = line.dt.length;
  const t = new Float64Array(length);
  let time = line.t0;
  for (let i = 0; i < length; i++) {
    time += line.dt[i] as number;
    t[i] = time;
  }
  const paths = Object.keys(line.numbers);
  const coarse = line.tier !== 'raw';
  return {
    topic: line.topic,
    length,
    t,
    n: line.n ? Float64Array.from(line.n) : new Float64Array(length).fill(1),
    paths,
    value: paths.map((path) => toColumn(line.numbers[path] as (number | null)[])),
    min: coarse ? paths.map((path) => toColumn(line.min?.[path] ?? (line.numbers[path] as (number | null)[]))) : null,
    max: coarse ? paths.map((path) => toColumn(line.max?.[path] ?? (line.numbers[path] as (number | null)[]))) : null,
    others: new Map(Object.entries(line.others).map(([key, values]) => [key, values.map((value) => value ?? undefined)])),
    buckets: line.buckets ? packBuckets(line.buckets, true) : null,
  };
}

/** Rough bytes a block holds, for the decoded-segment cache's budget. */
export function blockBytes(block: Block): number {
  let bytes = block.length * 16 + block.value.length * block.length * 8 * (block.min ? 3 : 1);
  if (block.buckets) bytes += block.buckets.v.byteLength * 2 + block.buckets.offsets.byteLength;
  for (const values of block.others.values()) bytes += values.length * 16;
  return bytes;
}

/** A column that grows by doubling; its first `length` values are what a block views. */
function grown<T extends Float64Array | Uint32Array>(column: T, capacity: number, fill?: number): T {
  const bigger = new (column.constructor as new (length: number) => T)(capacity);
  if (fill !== undefined) bigger.fill(fill, column.length);
  bigger.set(column);
  return bigger;
}

/**
 * Raw rows appended one at a time (the open hour): typed-array columns that grow by doubling, and
 * `block()` hands out views of their first rows. Rows are only ever appended past those views and a
 * column that grows is copied to a new array, so a block handed out stays as it was, and no query copies
 * the hour (it used to: ~4 MB per query at 1 Hz, most of it the requests' latency buckets).
 */
export class RowColumns {
  private rows = 0;
  private capacity = 64;
  private t = new Float64Array(this.capacity);
  private ones = new Float64Array(this.capacity).fill(1);
  private readonly columns = new Map<string, Float64Array>();
  private readonly otherColumns = new Map<string, unknown[]>();
  /** Latency buckets: row i's are [offsets[i], offsets[i + 1]) of v and c. */
  private offsets = new Uint32Array(this.capacity + 1);
  private bucketValues = new Uint32Array(0);
  private bucketCounts = new Uint32Array(0);
  private bucketEntries = 0;
  private hasBuckets = false;
  private snapshot: Block | null = null;
  private readonly paths = new FlatPaths();
  private oldestT = Number.POSITIVE_INFINITY;

  constructor(readonly topic: Topic) {}

  get length(): number {
    return this.rows;
  }

  /** The earliest time of any row (rows are appended in arrival order, which a clock step can make out of time order). */
  get oldest(): number {
    return this.oldestT;
  }

  /** The rows' times so far (a view: valid until the next push). */
  times(): Float64Array {
    return this.t.subarray(0, this.rows);
  }

  /** Rows [start, end) of a block as new columns that can grow (the open hour cut at an hour, or at a memory bound). */
  static fromBlock(block: Block, start = 0, end = block.length): RowColumns {
    const columns = new RowColumns(block.topic);
    const length = Math.max(0, end - start);
    columns.rows = length;
    columns.capacity = Math.max(64, length);
    columns.t = new Float64Array(columns.capacity);
    columns.t.set(block.t.subarray(start, end));
    for (let i = 0; i < length; i++) columns.oldestT = Math.min(columns.oldestT, columns.t[i] as number);
    columns.ones = new Float64Array(columns.capacity).fill(1);
    block.paths.forEach((path, p) => {
      const column = new Float64Array(columns.capacity).fill(Number.NaN);
      column.set((block.value[p] as Float64Array).subarray(start, end));
      columns.columns.set(path, column);
    });
    for (const [key, values] of block.others) columns.otherColumns.set(key, values.slice(start, end));
    columns.offsets = new Uint32Array(columns.capacity + 1);
    if (block.buckets) {
      const first = block.buckets.offsets[start] as number;
      const last = block.buckets.offsets[end] as number;
      for (let i = 0; i <= length; i++) columns.offsets[i] = (block.buckets.offsets[start + i] as number) - first;
      columns.bucketValues = block.buckets.v.slice(first, last);
      columns.bucketCounts = block.buckets.c.slice(first, last);
      columns.bucketEntries = last - first;
      columns.hasBuckets = true;
    }
    return columns;
  }

  /** Appends a sample as a row: its numbers to their paths' columns, its other values to their keys' (see `flatten`). */
  push(t: number, sample: object, buckets: LatencyBuckets | undefined): void {
    if (this.rows === this.capacity) this.grow();
    const i = this.rows;
    this.t[i] = t;
    if (t < this.oldestT) this.oldestT = t;
    this.paths.walk(sample, this.setNumber, this.setOther);
    // A path this row lacks stays NaN: columns are NaN past their last row until a row sets them.
    for (const column of this.otherColumns.values()) if (column.length === i) column.push(undefined);
    if (buckets) this.addBuckets(buckets);
    this.offsets[i + 1] = this.bucketEntries;
    this.rows++;
    this.snapshot = null;
  }

  private readonly setNumber = (path: string, value: number): void => {
    let column = this.columns.get(path);
    if (!column) {
      column = new Float64Array(this.capacity).fill(Number.NaN);
      this.columns.set(path, column);
    }
    column[this.rows] = value;
  };

  private readonly setOther = (key: string, value: unknown): void => {
    let column = this.otherColumns.get(key);
    if (!column) {
      column = new Array(this.rows).fill(undefined);
      this.otherColumns.set(key, column);
    }
    column.push(value);
  };

  block(): Block {
    if (this.snapshot) return this.snapshot;
    const length = this.rows;
    const paths = [...this.columns.keys()];
    this.snapshot = {
      topic: this.topic,
      length,
      t: this.t.subarray(0, length),
      n: this.ones.subarray(0, length),
      paths,
      value: paths.map((path) => (this.columns.get(path) as Float64Array).subarray(0, length)),
      min: null,
      max: null,
      others: new Map([...this.otherColumns].map(([key, values]) => [key, values.slice()])),
      buckets: this.hasBuckets
        ? {
            offsets: this.offsets.subarray(0, length + 1),
            v: this.bucketValues.subarray(0, this.bucketEntries),
            c: this.bucketCounts.subarray(0, this.bucketEntries),
          }
        : null,
    };
    return this.snapshot;
  }

  private grow(): void {
    this.capacity *= 2;
    this.t = grown(this.t, this.capacity);
    this.ones = grown(this.ones, this.capacity, 1);
    for (const [path, column] of this.columns) this.columns.set(path, grown(column, this.capacity, Number.NaN));
    this.offsets = grown(this.offsets, this.capacity + 1);
  }

  private addBuckets(buckets: LatencyBuckets): void {
    this.hasBuckets = true;
    const needed = this.bucketEntries + buckets.v.length;
    if (needed > this.bucketValues.length) {
      const capacity = Math.max(needed, 2 * this.bucketValues.length, 1024);
      this.bucketValues = grown(this.bucketValues, capacity);
      this.bucketCounts = grown(this.bucketCounts, capacity);
    }
    this.bucketValues.set(buckets.v, this.bucketEntries);
    this.bucketCounts.set(buckets.c, this.bucketEntries);
    this.bucketEntries = needed;
  }
}

/** The first row index with t >= from, and one past the last with t <= to (binary search: rows are in time order). */
export function rowsWithin(block: Block, from: number, to: number): [number, number] {
  const lowerBound = (value: number, inclusive: boolean) => {
    let lo = 0;
    let hi = block.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = block.t[mid] as number;
      if (inclusive ? t < value : t <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return [lowerBound(from, true), lowerBound(to, false)];
}

/**
 * Merges rows of blocks (fed in time order) into buckets of `step` ms aligned to the epoch: per path the
 * sum (mean × samples for means), the count, the min and the max; latency buckets merged by adding
 * counts; other values the newest. `step` null keeps every row as it is (a raw answer).
 */
export class Merger {
  private readonly t: number[] = [];
  private readonly n: number[] = [];
  private readonly pathIndex = new Map<string, number>();
  private readonly paths: string[] = [];
  private readonly sum: number[][] = [];
  private readonly count: number[][] = [];
  private readonly min: number[][] = [];
  private readonly max: number[][] = [];
  private readonly others = new Map<string, unknown[]>();
  private readonly parts: BucketsAt[][] = [];
  private coarse = false;

  /**
   * `withBuckets` false: latency buckets are left out (raw rows merged by a few seconds: sealed raw
   * segments keep none, so the open hour's are not used either, and every merged raw row is alike).
   */
  constructor(
    readonly topic: Topic,
    private readonly step: number | null,
    private readonly withBuckets = true,
  ) {}

  get length(): number {
    return this.t.length;
  }

  get lastTime(): number {
    return this.t.length === 0 ? Number.NEGATIVE_INFINITY : (this.t[this.t.length - 1] as number);
  }

  /**
   * Rows of `block` from index `first` up to (not including) `end`: first which merged row each goes to
   * (and its count, other values and latency buckets), then path by path, each column read in one loop.
   */
  add(block: Block, first = 0, end = block.length): void {
    if (block.min) this.coarse = true;
    const otherColumns = [...block.others].map(([key, values]) => [this.otherColumn(key), values] as const);
    const rowOf = new Uint32Array(Math.max(0, end - first));
    for (let i = first; i < end; i++) {
      const time = block.t[i] as number;
      const start = this.step === null ? time : Math.floor(time / this.step) * this.step;
      if (this.t.length === 0 || this.t[this.t.length - 1] !== start || this.step === null) this.openRow(start);
      const row = this.t.length - 1;
      rowOf[i - first] = row;
      this.n[row] = (this.n[row] as number) + (block.n[i] as number);
      for (const [into, values] of otherColumns) if (values[i] !== undefined) into[row] = values[i];
      if (this.withBuckets && block.buckets && (block.buckets.offsets[i] as number) < (block.buckets.offsets[i + 1] as number))
        (this.parts[row] as BucketsAt[]).push({ columns: block.buckets, row: i });
    }
    block.paths.forEach((path, p) => {
      const slot = this.slotOf(path);
      const summed = isSummed(this.topic, path);
      const values = block.value[p] as Float64Array;
      const lows = block.min ? (block.min[p] as Float64Array) : values;
      const highs = block.max ? (block.max[p] as Float64Array) : values;
      const sums = this.sum[slot] as number[];
      const counts = this.count[slot] as number[];
      const mins = this.min[slot] as number[];
      const maxes = this.max[slot] as number[];
      for (let i = first; i < end; i++) {
        const value = values[i] as number;
        if (Number.isNaN(value)) continue;
        const row = rowOf[i - first] as number;
        const n = block.n[i] as number;
        const low = lows[i] as number;
        const high = highs[i] as number;
        if ((counts[row] as number) === 0) {
          sums[row] = 0;
          mins[row] = low;
          maxes[row] = high;
        } else {
          if (low < (mins[row] as number)) mins[row] = low;
          if (high > (maxes[row] as number)) maxes[row] = high;
        }
        sums[row] = (sums[row] as number) + (summed ? value : value * n);
        counts[row] = (counts[row] as number) + n;
      }
    });
  }

  /** The merged rows as a block: means (sums for counts and bytes), mins, maxes, merged latency buckets. */
  block(): Block {
    const length = this.t.length;
    const value = this.paths.map((path, slot) => {
      const counts = this.count[slot] as number[];
      return presentOnly(this.sum[slot] as number[], counts, isSummed(this.topic, path) ? same : (sum, count) => sum / count);
    });
    const merged = this.step !== null || this.coarse;
    const buckets = mergeBucketRows(this.parts);
    return {
      topic: this.topic,
      length,
      t: Float64Array.from(this.t),
      n: Float64Array.from(this.n),
      paths: [...this.paths],
      value,
      min: merged ? this.min.map((column, slot) => presentOnly(column, this.count[slot] as number[], same)) : null,
      max: merged ? this.max.map((column, slot) => presentOnly(column, this.count[slot] as number[], same)) : null,
      others: this.others,
      buckets,
    };
  }

  private openRow(start: number): void {
    this.t.push(start);
    this.n.push(0);
    for (let slot = 0; slot < this.paths.length; slot++) {
      (this.sum[slot] as number[]).push(0);
      (this.count[slot] as number[]).push(0);
      (this.min[slot] as number[]).push(0);
      (this.max[slot] as number[]).push(0);
    }
    for (const values of this.others.values()) values.push(undefined);
    this.parts.push([]);
  }

  private slotOf(path: string): number {
    let slot = this.pathIndex.get(path);
    if (slot === undefined) {
      slot = this.paths.length;
      this.pathIndex.set(path, slot);
      this.paths.push(path);
      const rows = this.t.length;
      this.sum.push(new Array(rows).fill(0));
      this.count.push(new Array(rows).fill(0));
      this.min.push(new Array(rows).fill(0));
      this.max.push(new Array(rows).fill(0));
    }
    return slot;
  }

  private otherColumn(key: string): unknown[] {
    let values = this.others.get(key);
    if (!values) {
      values = new Array(this.t.length).fill(undefined);
      this.others.set(key, values);
    }
    return values;
  }
}

/** Raw rows (oldest first) as a block. */
export function blockOfRows(topic: Topic, rows: readonly RawRow[]): Block {
  const columns = new RowColumns(topic);
  for (const row of rows) columns.push(row.sample.t, row.sample, row.buckets);
  return columns.block();
}

/** A block's rows (oldest first) in buckets of `step` ms aligned to the epoch. */
export function mergeBlock(block: Block, step: number): Block {
  const merger = new Merger(block.topic, step);
  merger.add(block);
  return merger.block();
}
