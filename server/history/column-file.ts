import { readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflate, inflateSync } from 'node:zlib';
import { TOPICS, type Topic } from '../protocol.js';
import type { Block } from './block.js';
import { bucketsViewAt, type LatencyBuckets, packBuckets, toStoredPrecision } from './latency-buckets.js';
import type { CoarseTier } from './tiers.js';

/**
 * The 1m, 10m and 1h tiers' files: binary columns, so a query reads numbers without parsing text. A file is
 * chunks one after another, one per sealed hour (see "The format" in the README):
 *
 *   "PBC1"  u32 body bytes  u32 inflated bytes  (little-endian)
 *   body, zlib (deflate) of:  u32 header bytes, header (UTF-8 JSON), zeros up to a multiple of 8 bytes,
 *                             then per topic of the header, little-endian: float64 t[rows], n[rows], per
 *                             path mean[rows], min[rows], max[rows]; when "buckets" > 0, uint32
 *                             offsets[rows + 1], v[buckets], c[buckets] and zeros up to a multiple of 8
 *   header: {"tier","from","to","topics":[{"topic","rows","paths","others","buckets"}]}
 *
 * One chunk per hour (not per topic and hour): a month of 1-hour rows is 720 small inflates, not 5 000.
 * A chunk cut short by a crash is the only thing a reader skips, and it is cut off before the next append.
 */
export const CHUNK_MAGIC = Buffer.from('PBC1');
const PREFIX_BYTES = 12;

export interface TopicColumnsHeader {
  topic: Topic;
  rows: number;
  paths: string[];
  /** Non-numeric values by key, one per row (null where a row lacks it). */
  others: Record<string, unknown[]>;
  /** Latency bucket entries (requests only; 0 for none). */
  buckets: number;
}

export interface ColumnChunkHeader {
  tier: CoarseTier;
  /** The hour this chunk seals, ms since epoch: [from, to). */
  from: number;
  to: number;
  topics: TopicColumnsHeader[];
}

export class CorruptColumnFileError extends Error {}

const floatsOf = (topic: Pick<TopicColumnsHeader, 'rows' | 'paths'>) => (2 + 3 * topic.paths.length) * topic.rows;
const bucketWordsOf = (topic: Pick<TopicColumnsHeader, 'rows' | 'buckets'>) => (topic.buckets > 0 ? topic.rows + 1 + 2 * topic.buckets : 0);
/** Bytes of a topic's section of a chunk: its float64s, its uint32s, padded to a multiple of 8. */
const sectionBytesOf = (topic: Pick<TopicColumnsHeader, 'rows' | 'paths' | 'buckets'>) =>
  floatsOf(topic) * 8 + Math.ceil((bucketWordsOf(topic) * 4) / 8) * 8;

/** One topic's block as its header entry and its section's bytes. Latency buckets at 2 significant digits. */
function sectionOfBlock(block: Block): { header: TopicColumnsHeader; bytes: Buffer } {
  const rows = block.length;
  const stored: (LatencyBuckets | null)[] = [];
  let bucketCount = 0;
  if (block.buckets) {
    for (let i = 0; i < rows; i++) {
      const view = bucketsViewAt(block.buckets, i);
      const buckets = view ? toStoredPrecision(view) : null;
      stored.push(buckets);
      bucketCount += buckets?.v.length ?? 0;
    }
  }
  const header: TopicColumnsHeader = {
    topic: block.topic,
    rows,
    paths: block.paths,
    others: Object.fromEntries([...block.others].map(([key, values]) => [key, values.map((value) => value ?? null)])),
    buckets: bucketCount,
  };
  const bytes = Buffer.alloc(sectionBytesOf(header));
  const floats = new Float64Array(bytes.buffer, bytes.byteOffset, floatsOf(header));
  floats.set(block.t, 0);
  floats.set(block.n, rows);
  block.paths.forEach((_, p) => {
    const value = block.value[p] as Float64Array;
    floats.set(value, (2 + 3 * p) * rows);
    floats.set(block.min?.[p] ?? value, (3 + 3 * p) * rows);
    floats.set(block.max?.[p] ?? value, (4 + 3 * p) * rows);
  });
  if (bucketCount > 0) {
    const packed = packBuckets(stored) as NonNullable<ReturnType<typeof packBuckets>>;
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + floats.byteLength, bucketWordsOf(header));
    words.set(packed.offsets, 0);
    words.set(packed.v, rows + 1);
    words.set(packed.c, rows + 1 + bucketCount);
  }
  return { header, bytes };
}

/** An hour of 1m or 1h rows, every topic's block, as one chunk: its prefix and compressed body. */
export async function encodeChunk(blocks: readonly Block[], tier: CoarseTier, from: number, to: number): Promise<Buffer> {
  const parts = blocks.map(sectionOfBlock);
  const header: ColumnChunkHeader = { tier, from, to, topics: parts.map((part) => part.header) };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const numbersStart = Math.ceil((4 + headerBytes.length) / 8) * 8;
  const plain = Buffer.alloc(numbersStart + parts.reduce((sum, part) => sum + part.bytes.length, 0));
  plain.writeUInt32LE(headerBytes.length, 0);
  headerBytes.copy(plain, 4);
  let at = numbersStart;
  for (const { bytes } of parts) {
    bytes.copy(plain, at);
    at += bytes.length;
  }
  const body = await deflateAsync(plain, { level: 6 });
  const prefix = Buffer.alloc(PREFIX_BYTES);
  CHUNK_MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(body.length, 4);
  prefix.writeUInt32LE(plain.length, 8);
  return Buffer.concat([prefix, body]);
}

const deflateAsync = promisify(deflate);

/**
 * The compressed bodies of a file's whole chunks, and where the last whole one ends (a crash can leave a
 * chunk cut short after it). Throws CorruptColumnFileError for bytes that are not chunks.
 */
function bodiesOf(bytes: Buffer, path: string): { bodies: { body: Buffer; inflatedBytes: number }[]; wholeBytes: number } {
  const bodies: { body: Buffer; inflatedBytes: number }[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < PREFIX_BYTES) break;
    if (bytes.compare(CHUNK_MAGIC, 0, CHUNK_MAGIC.length, at, at + CHUNK_MAGIC.length) !== 0)
      throw new CorruptColumnFileError(`${path}: bytes at ${at} are not a pulseboard column chunk`);
    const end = at + PREFIX_BYTES + bytes.readUInt32LE(at + 4);
    if (end > bytes.length) break;
    bodies.push({ body: bytes.subarray(at + PREFIX_BYTES, end), inflatedBytes: bytes.readUInt32LE(at + 8) });
    at = end;
  }
  return { bodies, wholeBytes: at };
}

function parseHeader(text: string): ColumnChunkHeader | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const header = value as Partial<ColumnChunkHeader> | null;
  if (header === null || typeof header !== 'object') return null;
  const ok =
    (header.tier === '1m' || header.tier === '10m' || header.tier === '1h') &&
    Number.isFinite(header.from) &&
    Number.isFinite(header.to) &&
    Array.isArray(header.topics) &&
    header.topics.every(isTopicHeader);
  return ok ? (header as ColumnChunkHeader) : null;
}

function isTopicHeader(value: unknown): value is TopicColumnsHeader {
  const topic = value as Partial<TopicColumnsHeader> | null;
  if (topic === null || typeof topic !== 'object') return false;
  const rows = topic.rows as number;
  return (
    (TOPICS as readonly string[]).includes(topic.topic as string) &&
    Number.isInteger(rows) &&
    rows >= 0 &&
    Array.isArray(topic.paths) &&
    topic.paths.every((path) => typeof path === 'string') &&
    topic.others !== null &&
    typeof topic.others === 'object' &&
    Object.values(topic.others).every((values) => Array.isArray(values) && values.length === rows) &&
    Number.isInteger(topic.buckets) &&
    (topic.buckets as number) >= 0
  );
}

interface TopicHour {
  header: TopicColumnsHeader;
  floats: Float64Array;
  /** offsets[rows + 1], v[buckets], c[buckets]; null without buckets. */
  bucketWords: Uint32Array | null;
}

/**
 * A column file's rows of each topic (only `topics`, when given) as one block per topic, oldest hour
 * first; an hour that appears twice (a seal done again after a crash) counts once, its last chunk. A
 * missing file has none. Throws CorruptColumnFileError for a file that is not ours.
 */
export function readColumnFile(path: string, topics?: ReadonlySet<Topic>): Map<Topic, Block> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const hours = new Map<Topic, Map<number, TopicHour>>();
  for (const { body, inflatedBytes } of bodiesOf(bytes, path).bodies) {
    let plain: Buffer;
    try {
      // Inflated into one buffer of the size the prefix gives: no pieces joined afterwards.
      plain = inflateSync(body, { chunkSize: Math.max(64, inflatedBytes), maxOutputLength: Math.max(64, inflatedBytes) });
    } catch {
      throw new CorruptColumnFileError(`${path}: a chunk does not inflate`);
    }
    const headerEnd = 4 + (plain.length >= 4 ? plain.readUInt32LE(0) : 0);
    const header = headerEnd <= plain.length ? parseHeader(plain.toString('utf8', 4, headerEnd)) : null;
    if (!header) throw new CorruptColumnFileError(`${path}: a chunk has no valid header`);
    const sectionsStart = Math.ceil(headerEnd / 8) * 8;
    const total = header.topics.reduce((sum, topic) => sum + sectionBytesOf(topic), 0);
    if (plain.length !== sectionsStart + total)
      throw new CorruptColumnFileError(`${path}: the chunk of ${new Date(header.from).toISOString()} has the wrong length`);
    const aligned = alignedCopy(plain);
    let at = sectionsStart;
    for (const topic of header.topics) {
      if (!topics || topics.has(topic.topic)) {
        let byHour = hours.get(topic.topic);
        if (!byHour) {
          byHour = new Map();
          hours.set(topic.topic, byHour);
        }
        const floats = new Float64Array(aligned.buffer, aligned.byteOffset + at, floatsOf(topic));
        const words = bucketWordsOf(topic);
        const bucketWords = words > 0 ? new Uint32Array(aligned.buffer, aligned.byteOffset + at + floats.byteLength, words) : null;
        byHour.set(header.from, { header: topic, floats, bucketWords });
      }
      at += sectionBytesOf(topic);
    }
  }
  const blocks = new Map<Topic, Block>();
  for (const [topic, byHour] of hours) {
    const ordered = [...byHour].sort((a, b) => a[0] - b[0]).map(([, hour]) => hour);
    blocks.set(topic, blockOfHours(topic, ordered));
  }
  return blocks;
}

/** The bytes themselves when typed arrays can view them (8-aligned), else an aligned copy. */
function alignedCopy(bytes: Buffer): Buffer {
  if (bytes.byteOffset % 8 === 0) return bytes;
  const copy = Buffer.from(new ArrayBuffer(bytes.length));
  bytes.copy(copy);
  return copy;
}

/** A topic's hours as one block: the union of their paths (NaN where an hour lacks one). */
function blockOfHours(topic: Topic, hours: readonly TopicHour[]): Block {
  const length = hours.reduce((sum, hour) => sum + hour.header.rows, 0);
  const paths: string[] = [];
  const slotOf = new Map<string, number>();
  let bucketTotal = 0;
  for (const { header } of hours) {
    bucketTotal += header.buckets;
    for (const path of header.paths)
      if (!slotOf.has(path)) {
        slotOf.set(path, paths.length);
        paths.push(path);
      }
  }
  const column = () => new Float64Array(length).fill(Number.NaN);
  const t = new Float64Array(length);
  const n = new Float64Array(length);
  const value = paths.map(column);
  const min = paths.map(column);
  const max = paths.map(column);
  const others = new Map<string, unknown[]>();
  const buckets =
    bucketTotal > 0 ? { offsets: new Uint32Array(length + 1), v: new Uint32Array(bucketTotal), c: new Uint32Array(bucketTotal) } : null;
  let row = 0;
  let bucketAt = 0;
  for (const { header, floats, bucketWords } of hours) {
    const rows = header.rows;
    const copy = (into: Float64Array, from: number) => {
      for (let i = 0; i < rows; i++) into[row + i] = floats[from + i] as number;
    };
    copy(t, 0);
    copy(n, rows);
    header.paths.forEach((path, p) => {
      const slot = slotOf.get(path) as number;
      copy(value[slot] as Float64Array, (2 + 3 * p) * rows);
      copy(min[slot] as Float64Array, (3 + 3 * p) * rows);
      copy(max[slot] as Float64Array, (4 + 3 * p) * rows);
    });
    for (const [key, values] of Object.entries(header.others)) {
      let into = others.get(key);
      if (!into) {
        into = new Array(length).fill(undefined);
        others.set(key, into);
      }
      for (let i = 0; i < rows; i++) into[row + i] = values[i] ?? undefined;
    }
    if (buckets) {
      for (let i = 0; i < rows; i++) buckets.offsets[row + i] = bucketAt + (bucketWords ? (bucketWords[i] as number) : 0);
      if (bucketWords) {
        buckets.v.set(bucketWords.subarray(rows + 1, rows + 1 + header.buckets), bucketAt);
        buckets.c.set(bucketWords.subarray(rows + 1 + header.buckets), bucketAt);
      }
      bucketAt += header.buckets;
    }
    row += rows;
  }
  if (buckets) buckets.offsets[length] = bucketAt;
  return { topic, length, t, n, paths, value, min, max, others, buckets };
}

/**
 * Appends an hour's chunks in one write. `knownBytes` is the file's length before: a failed append is cut
 * back to it. Returns the new length.
 */
export async function appendChunks(path: string, chunks: readonly Buffer[], knownBytes: number, sync = true): Promise<number> {
  const bytes = Buffer.concat(chunks);
  const file = await open(path, 'a');
  try {
    await file.write(bytes);
    if (sync) await file.sync();
  } catch (error) {
    await file.truncate(knownBytes).catch(() => {});
    throw error;
  } finally {
    await file.close();
  }
  return knownBytes + bytes.length;
}

/**
 * Before the first append to a file in this process: a chunk cut short by a crash mid-append is cut off
 * (an append after it could not be read). Returns the file's length (0 when it does not exist). A file
 * that is not ours is left as it is (CorruptColumnFileError): appending to it would bury the next hours too.
 */
export async function readyForAppend(path: string): Promise<number> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const { wholeBytes } = bodiesOf(bytes, path);
  if (wholeBytes < bytes.length) {
    const file = await open(path, 'r+');
    try {
      await file.truncate(wholeBytes);
      await file.sync();
    } finally {
      await file.close();
    }
  }
  return wholeBytes;
}
