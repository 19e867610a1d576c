import { readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { promisify } from 'node:util';
import { constants, gunzipSync, gzip } from 'node:zlib';
import { TOPICS, type Topic } from '../protocol.js';
import type { Block } from './block.js';
import { unflatten } from './flat.js';
import { bucketsViewAt, fromDeltas, isLatencyBuckets, type LatencyBuckets, toDeltas, toStoredPrecision } from './latency-buckets.js';
import { isSummed, type RawRow } from './rollup.js';
import { toSixDigits } from './six-digits.js';
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
  /** 1m / 1h: request latency buckets per row (requests only; null for rows without requests), at 2 significant digits, `v` as differences. */
  buckets?: (LatencyBuckets | null)[];
}

export class CorruptSegmentError extends Error {}

function timesOf(times: readonly number[]): { t0: number; dt: number[] } {
  const t0 = times[0] ?? 0;
  return { t0, dt: times.map((t, i) => (i === 0 ? 0 : t - (times[i - 1] as number))) };
}

function jsonColumn(values: Float64Array, map: (value: number) => number = (value) => value): (number | null)[] {
  const column = new Array<number | null>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    column[i] = Number.isNaN(value) ? null : map(value);
  }
  return column;
}

function storedBucketsOf(block: Block): (LatencyBuckets | null)[] | undefined {
  if (!block.buckets) return undefined;
  const packed = block.buckets;
  return Array.from(block.t, (_, i) => {
    const view = bucketsViewAt(packed, i);
    return view ? toDeltas(toStoredPrecision(view)) : null;
  });
}

/**
 * A block as one chunk line of a segment: raw rows as they are; downsampled rows (`tier` 1m or 1h) as
 * `n`, the means (6 significant digits; sums for counts and bytes), the mins and the maxes.
 */
export function encodeBlock(block: Block, tier: Tier, from: number, to: number): ChunkLine {
  const numbers: Record<string, (number | null)[]> = {};
  const others: Record<string, unknown[]> = {};
  block.paths.forEach((path, p) => {
    numbers[path] = jsonColumn(block.value[p] as Float64Array, tier === 'raw' || isSummed(block.topic, path) ? undefined : toSixDigits);
  });
  for (const [key, values] of block.others) others[key] = values.map((value) => value ?? null);
  const line: ChunkLine = { topic: block.topic, tier, from, to, ...timesOf(Array.from(block.t)), numbers, others };
  if (tier !== 'raw') {
    line.n = Array.from(block.n);
    line.min = {};
    line.max = {};
    for (let p = 0; p < block.paths.length; p++) {
      const path = block.paths[p] as string;
      line.min[path] = jsonColumn(block.min?.[p] ?? (block.value[p] as Float64Array));
      line.max[path] = jsonColumn(block.max?.[p] ?? (block.value[p] as Float64Array));
    }
  }
  // Per-tick buckets are not kept in raw segments (38 % of a raw hour): the 1m and 1h rows sealed from them
  // carry the merged histograms, and each raw sample keeps its own p50 / p90 / p99 / max.
  const buckets = tier === 'raw' ? undefined : storedBucketsOf(block);
  if (buckets) line.buckets = buckets;
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
    if (buckets) row.buckets = fromDeltas(buckets);
    return row;
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

const gzipAsync = promisify(gzip);

function gzipLines(lines: readonly ChunkLine[]): Promise<Buffer> {
  return gzipAsync(lines.map((line) => `${JSON.stringify(line)}\n`).join(''), { level: 6 });
}

/**
 * Writes a whole segment file atomically: a temporary file, fsync, rename. A crash leaves the old one or
 * the new one. Asynchronous (zlib's thread pool, fs/promises), so sampling and streams never wait for it.
 */
export async function writeSegment(path: string, lines: readonly ChunkLine[], sync = true): Promise<number> {
  const bytes = await gzipLines(lines);
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.write(bytes);
    if (sync) await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  return bytes.length;
}

/**
 * The chunks of a segment file (only those of `topics`, when given). Throws CorruptSegmentError when it is
 * not a gzip of pulseboard chunks. Lines are cut from the decompressed bytes one at a time, and a line of
 * a topic not asked for is skipped unparsed: no string of the whole file, no objects for other topics.
 */
export function readSegment(path: string, topics?: ReadonlySet<Topic>): ChunkLine[] {
  let bytes: Buffer;
  try {
    // A torn tail (a write cut short) still yields what came before it.
    bytes = gunzipSync(readFileSync(path), { finishFlush: constants.Z_SYNC_FLUSH });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CorruptSegmentError(`${path} is not a gzip file`);
  }
  const chunks: ChunkLine[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    lineNumber++;
    if (end > start && (topics === undefined || wantedLine(bytes, start, topics))) {
      const chunk = parseChunkLine(bytes.toString('utf8', start, end));
      if (chunk) {
        if (topics === undefined || topics.has(chunk.topic)) chunks.push(chunk);
      } else if (newline !== -1 || lineNumber === 1) {
        // Only the last line may be cut short (a torn write); any other line that is not a chunk is corruption.
        throw new CorruptSegmentError(`${path}: line ${lineNumber} is not a pulseboard chunk`);
      }
    }
    start = end + 1;
  }
  return chunks;
}

const NEWLINE = 0x0a;
const TOPIC_PREFIX = Buffer.from('{"topic":"');

/** A line this store wrote starts with its topic; a line that does not (written by hand?) is parsed to find out. */
function wantedLine(bytes: Buffer, start: number, topics: ReadonlySet<Topic>): boolean {
  if (bytes.compare(TOPIC_PREFIX, 0, TOPIC_PREFIX.length, start, start + TOPIC_PREFIX.length) !== 0) return true;
  const nameStart = start + TOPIC_PREFIX.length;
  const nameEnd = bytes.indexOf(0x22, nameStart);
  if (nameEnd === -1 || nameEnd - nameStart > 32) return true;
  return topics.has(bytes.toString('latin1', nameStart, nameEnd) as Topic);
}
