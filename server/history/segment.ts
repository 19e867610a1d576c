import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { TOPICS, type Topic } from '../protocol.js';
import { flatten, unflatten } from './flat.js';
import { isLatencyBuckets, type LatencyBuckets } from './latency-buckets.js';
import { type Aggregate, isSummed, type PathStats, type RawRow } from './rollup.js';
import type { Tier } from './tiers.js';

/**
 * One line of a segment file: one topic's rows of one sealed hour, column by column (see "Durable
 * history" in the README for the layout). `t0` is the first row's time and `dt` the differences between
 * consecutive times (0 first), which gzip packs far better than absolute times.
 */
export interface ChunkLine {
  topic: Topic;
  tier: Tier;
  /** The hour this chunk seals, ms since epoch: [from, to). */
  from: number;
  to: number;
  t0: number;
  dt: number[];
  /** raw: the values; 1m / 1h: the bucket means (sums for counts and bytes). null where a row lacks the path. */
  numbers: Record<string, (number | null)[]>;
  others: Record<string, unknown[]>;
  /** 1m / 1h: samples per bucket, and each numeric path's min and max. */
  n?: number[];
  min?: Record<string, (number | null)[]>;
  max?: Record<string, (number | null)[]>;
  /** Request latency buckets per row (requests only; null for rows without requests). */
  buckets?: (LatencyBuckets | null)[];
}

export class CorruptSegmentError extends Error {}

function timesOf(times: readonly number[]): { t0: number; dt: number[] } {
  const t0 = times[0] ?? 0;
  return { t0, dt: times.map((t, i) => (i === 0 ? 0 : t - (times[i - 1] as number))) };
}

function column<V>(columns: Record<string, V[]>, key: string, length: number): V[] {
  let values = columns[key];
  if (!values) {
    values = new Array(length).fill(null);
    columns[key] = values;
  }
  return values;
}

export function encodeRaw(topic: Topic, from: number, to: number, rows: readonly RawRow[]): ChunkLine {
  const numbers: Record<string, (number | null)[]> = {};
  const others: Record<string, unknown[]> = {};
  const buckets: (LatencyBuckets | null)[] = [];
  rows.forEach((row, i) => {
    const flat = flatten(row.sample);
    for (const [path, value] of flat.numbers) column(numbers, path, rows.length)[i] = value;
    for (const [key, value] of flat.others) column(others, key, rows.length)[i] = value;
    buckets.push(row.buckets ?? null);
  });
  const line: ChunkLine = { topic, tier: 'raw', from, to, ...timesOf(rows.map((row) => row.sample.t)), numbers, others };
  if (buckets.some((b) => b !== null)) line.buckets = buckets;
  return line;
}

const sixDigits = (value: number) => Number(value.toPrecision(6));

export function encodeAggregates(topic: Topic, tier: Tier, from: number, to: number, rows: readonly Aggregate[]): ChunkLine {
  const numbers: Record<string, (number | null)[]> = {};
  const min: Record<string, (number | null)[]> = {};
  const max: Record<string, (number | null)[]> = {};
  const others: Record<string, unknown[]> = {};
  rows.forEach((row, i) => {
    for (const [path, stats] of row.paths) {
      column(numbers, path, rows.length)[i] = sixDigits(isSummed(topic, path) ? stats.sum : stats.sum / stats.count);
      column(min, path, rows.length)[i] = stats.min;
      column(max, path, rows.length)[i] = stats.max;
    }
    for (const [key, value] of row.others) column(others, key, rows.length)[i] = value;
  });
  const line: ChunkLine = {
    topic,
    tier,
    from,
    to,
    ...timesOf(rows.map((row) => row.t)),
    n: rows.map((row) => row.n),
    numbers,
    min,
    max,
    others,
  };
  if (rows.some((row) => row.buckets !== null)) line.buckets = rows.map((row) => row.buckets);
  return line;
}

function times(line: ChunkLine): number[] {
  const result: number[] = [];
  let t = line.t0;
  for (const delta of line.dt) {
    t += delta;
    result.push(t);
  }
  return result;
}

function numbersAt(columns: Record<string, (number | null)[]>, i: number): [string, number][] {
  const result: [string, number][] = [];
  for (const path in columns) {
    const value = (columns[path] as (number | null)[])[i];
    if (typeof value === 'number') result.push([path, value]);
  }
  return result;
}

function othersAt(columns: Record<string, unknown[]>, i: number): [string, unknown][] {
  const result: [string, unknown][] = [];
  for (const key in columns) {
    const value = (columns[key] as unknown[])[i];
    if (value !== null && value !== undefined) result.push([key, value]);
  }
  return result;
}

export function decodeRaw(line: ChunkLine): RawRow[] {
  return times(line).map((t, i) => {
    const row: RawRow = { sample: unflatten(t, numbersAt(line.numbers, i), othersAt(line.others, i)) as RawRow['sample'] };
    const buckets = line.buckets?.[i];
    if (buckets) row.buckets = buckets;
    return row;
  });
}

export function decodeAggregates(line: ChunkLine): Aggregate[] {
  return times(line).map((t, i) => {
    const n = line.n?.[i] ?? 1;
    const paths = new Map<string, PathStats>();
    for (const [path, mean] of numbersAt(line.numbers, i)) {
      const min = line.min?.[path]?.[i] ?? mean;
      const max = line.max?.[path]?.[i] ?? mean;
      paths.set(path, { sum: isSummed(line.topic, path) ? mean : mean * n, min, max, count: n });
    }
    return { t, n, paths, others: new Map(othersAt(line.others, i)), buckets: line.buckets?.[i] ?? null };
  });
}

/** A parsed line, or null when it is not a chunk this version wrote. */
export function parseChunkLine(text: string): ChunkLine | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const line = value as Partial<ChunkLine> | null;
  if (line === null || typeof line !== 'object') return null;
  const ok =
    (TOPICS as readonly string[]).includes(line.topic as string) &&
    (line.tier === 'raw' || line.tier === '1m' || line.tier === '1h') &&
    Number.isFinite(line.from) &&
    Number.isFinite(line.to) &&
    Number.isFinite(line.t0) &&
    Array.isArray(line.dt) &&
    line.dt.every((d) => Number.isFinite(d)) &&
    isColumns(line.numbers, line.dt.length) &&
    line.others !== null &&
    typeof line.others === 'object' &&
    (line.buckets === undefined || (Array.isArray(line.buckets) && line.buckets.every((b) => b === null || isLatencyBuckets(b))));
  return ok ? (line as ChunkLine) : null;
}

function isColumns(value: unknown, length: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).every((values) => Array.isArray(values) && values.length === length);
}

/** Writes a whole segment file atomically: a temporary file, fsync, rename. A crash leaves the old one or the new one. */
export function writeSegment(path: string, lines: readonly ChunkLine[]): number {
  const bytes = gzipSync(lines.map((line) => `${JSON.stringify(line)}\n`).join(''), { level: 6 });
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return bytes.length;
}

/** The chunks of a segment file. Throws CorruptSegmentError when it is not a gzip of pulseboard chunks. */
export function readSegment(path: string): ChunkLine[] {
  let text: string;
  try {
    // A torn tail (a write cut short) still yields what came before it.
    text = gunzipSync(readFileSync(path), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CorruptSegmentError(`${path} is not a gzip file`);
  }
  const lines = text.split('\n');
  const chunks: ChunkLine[] = [];
  lines.forEach((text, i) => {
    if (text === '') return;
    const chunk = parseChunkLine(text);
    if (chunk) chunks.push(chunk);
    else if (i < lines.length - 1 || chunks.length === 0) throw new CorruptSegmentError(`${path}: line ${i + 1} is not a pulseboard chunk`);
  });
  return chunks;
}
