import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstLine } from '../lib/errors.js';
import { type HistoryStatus, TOPICS, type Topic } from '../protocol.js';
import { type Block, blockBytes, blockOfChunk, blockOfRows, Merger, mergeBlock, RowColumns, rowsWithin } from './block.js';
import { appendChunks, CorruptColumnFileError, encodeChunk, readColumnFile, readyForAppend } from './column-file.js';
import { unflatten } from './flat.js';
import { Journal, journalLine } from './journal.js';
import { bucketsAt } from './latency-buckets.js';
import {
  FORMAT,
  HOUR_MS,
  JOURNAL_FILE,
  LOCK_FILE,
  MARKER_FILE,
  type Period,
  periodOf,
  periodOfName,
  SEGMENT_SUFFIX,
  suffixOf,
} from './layout.js';
import { DirectoryLock } from './lock.js';
import { persistedSample, restoredSample } from './persisted.js';
import { type Aggregate, isSummed, type PathStats, type RawRow } from './rollup.js';
import { type ChunkLine, CorruptSegmentError, decodeRaw, encodeBlock, readSegment, writeSegment } from './segment.js';
import { SegmentCache } from './segment-cache.js';
import { type CoarseTier, type Retention, TIER_STEP_MS, TIERS, type Tier } from './tiers.js';

export interface HistoryStoreOptions {
  /** The data directory; null keeps history in memory only. */
  dir: string | null;
  retention: Retention;
  /** Without a directory (or while it cannot be written), samples are kept in memory this long. */
  memoryMs: number;
  /** Longest wait before pending samples are written: what a `kill -9` can lose. */
  flushMs?: number;
  /** The store's clock: what is sealed and what retention deletes go by it (tests move it). */
  now?: () => number;
  /** Where the one-line reports go. */
  log?: (line: string) => void;
  /**
   * fsync each segment and journal rewrite (default true). `pulseboard demo` turns it off: a batch that
   * is simply run again if interrupted, and would otherwise wait on the disk thousands of times.
   */
  sync?: boolean;
  /** Called when writing stops or starts again. */
  onStatusChange?: (status: HistoryStatus) => void;
  /** Decoded segments kept between queries; a fleet hub's stores share one. Default: a cache of this store's own. */
  cache?: SegmentCache;
  /**
   * Called after work whose many allocations are garbage once it is done: the start's columns, an hour
   * sealed, a query's reading (which passes `release`: the decoded segments it kept may go once queries stop).
   */
  afterBulkWork?: (release?: () => void) => void;
}

export const DEFAULT_FLUSH_MS = 5000;
/** While the disk refuses writes, at most this many samples wait for it (about an hour of every topic at 1 Hz). */
const MAX_PENDING_LINES = 40_000;

export interface Slice {
  block: Block;
  /** Rows [start, end) of the block. */
  start: number;
  end: number;
}

const cacheKey = (file: SegmentFile, topic: Topic) => `${topic} ${file.path}`;

interface SegmentFile extends Period {
  tier: Tier;
  path: string;
  bytes: number;
}

/**
 * Durable history: every sample goes to a journal written every few seconds; each completed hour is
 * sealed into a raw segment and rolled up into 1-minute and 1-hour rows (min, max, mean; sums for counts
 * and bytes; merged latency histograms); retention deletes whole segments once they are older than their
 * tier's bound. Without a directory, or when it cannot be used, the store keeps recent samples in memory
 * and says why in its status; it never throws at the sampler.
 */
export class HistoryStore {
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly flushMs: number;
  private readonly sync: boolean;
  /** Samples not in a segment yet (with a directory), or the recent ones (memory only), per topic, oldest first. */
  private readonly files = new Map<string, SegmentFile>();
  /**
   * Samples not in a segment yet (with a directory: the open hour), or the recent ones (memory only), per
   * topic, oldest first, as columns only: no object per sample is kept (an hour at 1 Hz was 10.7 MB per
   * host as sample objects).
   */
  private readonly openColumns = new Map<Topic, RowColumns>();
  /** Samples after a topic's columns not in them yet (read back from the journal at start), oldest first. */
  private readonly pending = new Map<Topic, RawRow[]>();
  /** Open-hour rows turned into columns per turn of the event loop in the background after start. */
  private static readonly COLUMN_ROWS_PER_TURN = 1000;
  /**
   * The open hour's complete minutes rolled up to 1-minute rows, per topic, with how many of its samples
   * they hold: each minute is merged once, when a query first finds it complete, and its rows are kept
   * until the hour is sealed (a minute of per-tick latency buckets is the costly part).
   */
  private readonly openMinutes = new Map<Topic, { samples: number; blocks: Block[] }>();
  /** Decoded segments, least recently used first, within the cache's budget. */
  private readonly cache: SegmentCache;
  private readonly reportedCorrupt = new Set<string>();
  private readonly releaseCache = () => this.cache.clear();
  private journal: Journal | null = null;
  private lock: DirectoryLock | null = null;
  private timer: NodeJS.Timeout | undefined;
  private error: string | null = null;
  /** Samples before this are sealed in segments; a late one (a clock stepped back) is not taken. */
  private sealedUpTo = Number.NEGATIVE_INFINITY;
  /** Memory was trimmed while the disk refused writes: the next seal reads the journal back so nothing written is lost. */
  private trimmedWhileFailing = false;
  /** The periodic work in progress: the next tick waits for it rather than run beside it. */
  private working: Promise<void> | null = null;
  /** Coarse files checked for a torn last member since this process opened them (see readyForAppend). */
  private readonly appendable = new Set<string>();

  private constructor(private readonly options: HistoryStoreOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((line) => process.stderr.write(`pulseboard: ${line}\n`));
    this.flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.sync = options.sync ?? true;
    this.cache = options.cache ?? new SegmentCache();
  }

  /** Opens the directory (never throws: a directory that cannot be used is a status, and memory takes over). */
  static open(options: HistoryStoreOptions): HistoryStore {
    const store = new HistoryStore(options);
    if (options.dir !== null) store.openDirectory(options.dir);
    return store;
  }

  get dir(): string | null {
    return this.options.dir;
  }

  /** True while samples reach the data directory. */
  get writing(): boolean {
    return this.journal !== null && this.error === null;
  }

  /** How long each tier can answer for: memory only, every tier holds what memory holds. */
  get retention(): Retention {
    if (this.journal) return this.options.retention;
    const ms = this.options.memoryMs;
    return { raw: ms, '1m': ms, '10m': ms, '1h': ms };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.flushMs);
    this.timer.unref();
    setImmediate(() => this.fillOpenColumns());
  }

  /** Writes what is pending and lets the directory go. A seal still in flight is done again from the journal on the next start. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.writing) void this.tryWrite(async () => this.journal?.flush(), true);
    this.lock?.release();
  }

  /** `persistedJson`: the persisted sample's JSON when the caller has it (`sampleJson`), written to the journal as is. */
  record(topic: Topic, sample: { t: number } & object, buckets?: RawRow['buckets'], persistedJson?: string): void {
    if (sample.t < this.sealedUpTo) return;
    const row: RawRow = { sample: persistedSample(topic, sample) };
    if (buckets) row.buckets = buckets;
    const pending = this.pending.get(topic);
    if (pending) pending.push(row);
    else this.columnsOf(topic).push(row.sample.t, row.sample, row.buckets);
    this.journal?.add(journalLine(topic, row, persistedJson));
  }

  /**
   * The periodic work: write the journal, seal completed hours, apply retention, keep memory bounded.
   * Sealing compresses and fsyncs off the event loop; a tick that comes while one is running waits for it.
   */
  tick(): Promise<void> {
    const previous = this.working ?? Promise.resolve();
    const work = previous.then(() => this.work());
    this.working = work;
    void work.finally(() => {
      if (this.working === work) this.working = null;
    });
    return work;
  }

  private async work(): Promise<void> {
    // After a failed write this is the retry: the disk may have room again.
    if (this.journal) {
      await this.tryWrite(async () => {
        this.journal?.flush();
        await this.sealCompletedHours();
      }, true);
    }
    if (!this.writing) this.trimMemory();
    if (this.writing) await this.tryWrite(async () => this.applyRetention(), false);
  }

  /**
   * A topic's rows of a tier with time in [from, to], oldest first, as slices of column blocks: the
   * sealed segments' (decoded once and cached), then the open hour's (rolled up to 1-minute rows for a
   * coarse tier). Rows older than the tier keeps are not answered.
   */
  slices(tier: Tier, topic: Topic, from: number, to: number): Slice[] {
    const slices: Slice[] = [];
    this.eachSlice(tier, [topic], from, to, (_topic, slice) => slices.push(slice));
    return slices;
  }

  /**
   * The slices of several topics, handed to `visit` oldest first per topic, each segment file read once
   * for all of them: a query holds one file's blocks at a time, not the whole range's.
   */
  eachSlice(tier: Tier, topics: readonly Topic[], from: number, to: number, visit: (topic: Topic, slice: Slice) => void): void {
    const step = tier === 'raw' ? 1 : TIER_STEP_MS[tier];
    const first = Math.floor(Math.max(from, this.now() - this.retention[tier]) / step) * step;
    const last = new Map<Topic, number>(topics.map((topic) => [topic, Number.NEGATIVE_INFINITY]));
    const take = (topic: Topic, block: Block) => {
      const after = last.get(topic) as number;
      const [start, end] = rowsWithin(block, Math.max(first, after + 1), to);
      if (start >= end) return;
      visit(topic, { block, start, end });
      last.set(topic, block.t[end - 1] as number);
    };
    const files = this.filesOf(tier, first, to);
    for (const file of files) {
      const blocks = this.segmentBlocks(file, topics);
      for (const topic of topics) for (const block of blocks.get(topic) ?? []) take(topic, block);
    }
    if (files.length > 0) this.options.afterBulkWork?.(this.releaseCache);
    for (const topic of topics) {
      const open = this.openBlock(topic);
      if (!open) continue;
      if (tier === 'raw') take(topic, open);
      else for (const minutes of this.openMinuteBlocks(topic, open)) take(topic, minutes);
    }
  }

  /**
   * The time of the newest sample of a topic this store holds in its open hour, or before which it takes
   * none (the end of its last sealed hour): a fleet hub replaying a host's stream records only what is newer.
   */
  newestTime(topic: Topic): number {
    const pending = this.pending.get(topic);
    const columns = this.openColumns.get(topic);
    const last = pending?.[pending.length - 1]?.sample.t ?? columns?.times()[columns.length - 1];
    return Math.max(last ?? Number.NEGATIVE_INFINITY, this.sealedUpTo - 1);
  }

  /** Samples of a topic with time in [from, to], oldest first, in their own shape. */
  raw(topic: Topic, from: number, to: number): RawRow[] {
    const rows: RawRow[] = [];
    // One by one: a memory-only store's block can hold more rows than a call takes arguments.
    for (const { block, start, end } of this.slices('raw', topic, from, to))
      for (const row of rowsOfBlock(block, start, end, true)) rows.push(row);
    return rows;
  }

  /** Rows of a coarse tier in [from, to]: sealed ones from its segments, the open hour rolled up now. */
  aggregates(tier: CoarseTier, topic: Topic, from: number, to: number): Aggregate[] {
    const merger = new Merger(topic, TIER_STEP_MS[tier]);
    for (const { block, start, end } of this.slices(tier, topic, from, to)) merger.add(block, start, end);
    const block = merger.block();
    return Array.from(block.t, (t, i) => {
      const n = block.n[i] as number;
      const paths = new Map<string, PathStats>();
      block.paths.forEach((path, p) => {
        const value = (block.value[p] as Float64Array)[i] as number;
        if (Number.isNaN(value)) return;
        const min = block.min?.[p]?.[i] ?? value;
        const max = block.max?.[p]?.[i] ?? value;
        paths.set(path, { sum: isSummed(topic, path) ? value : value * n, min, max, count: n });
      });
      const others = new Map<string, unknown>();
      for (const [key, values] of block.others) if (values[i] !== undefined) others.set(key, values[i]);
      return { t, n, paths, others, buckets: bucketsAt(block.buckets, i) };
    });
  }

  status(): HistoryStatus {
    let bytes = this.journal?.size ?? 0;
    let oldest: number | null = null;
    for (const file of this.files.values()) {
      bytes += file.bytes;
      if (oldest === null || file.from < oldest) oldest = file.from;
    }
    for (const topic of this.openTopics()) {
      const columns = this.openColumns.get(topic);
      const t = columns && columns.length > 0 ? columns.times()[0] : this.pending.get(topic)?.[0]?.sample.t;
      if (t !== undefined && (oldest === null || t < oldest)) oldest = t;
    }
    return {
      writing: this.writing,
      dir: this.options.dir,
      error: this.error,
      bytes,
      oldest,
      retention: this.retention,
    };
  }

  private openDirectory(dir: string): void {
    const refuse = (why: string) => {
      this.error = `history: ${dir}: ${why}; history is not being written, live data is kept in memory`;
      this.log(this.error);
      this.journal = null;
    };
    try {
      mkdirSync(dir, { recursive: true });
      const entries = readdirSync(dir);
      if (entries.includes(MARKER_FILE)) {
        const marker = readMarker(join(dir, MARKER_FILE));
        if (marker) {
          refuse(marker);
          return;
        }
      } else if (entries.length > 0) {
        refuse(`not a pulseboard data directory (it holds other files and no ${MARKER_FILE}); choose an empty or new one`);
        return;
      } else {
        writeFileSync(join(dir, MARKER_FILE), `${JSON.stringify(FORMAT)}\n`);
      }
      const lock = new DirectoryLock(join(dir, LOCK_FILE));
      const held = lock.acquire();
      if (held) {
        refuse(held);
        return;
      }
      this.lock = lock;
      for (const tier of TIERS) mkdirSync(join(dir, tier), { recursive: true });
      const read = Journal.read(join(dir, JOURNAL_FILE));
      if (!read.ok) {
        lock.release();
        this.lock = null;
        refuse(`${read.error} (move it away to start a new journal; nothing was changed)`);
        return;
      }
      this.indexFiles(dir);
      for (const file of this.files.values()) if (file.tier === 'raw') this.sealedUpTo = Math.max(this.sealedUpTo, file.to);
      this.journal = new Journal(join(dir, JOURNAL_FILE));
      // Turned into columns in the background after start (fillOpenColumns), or by the first query.
      for (const { topic, row } of read.records.sort((a, b) => a.row.sample.t - b.row.sample.t)) {
        restoredSample(topic, row.sample);
        const rows = this.pending.get(topic);
        if (rows) rows.push(row);
        else this.pending.set(topic, [row]);
      }
    } catch (error) {
      this.lock?.release();
      this.lock = null;
      refuse(describe(error));
    }
  }

  private indexFiles(dir: string): void {
    for (const tier of TIERS) {
      for (const name of readdirSync(join(dir, tier))) {
        const period = periodOfName(tier, name);
        if (!period) continue;
        const path = join(dir, tier, name);
        this.files.set(path, { ...period, tier, path, bytes: statSync(path).size });
      }
    }
  }

  private filesOf(tier: Tier, from: number, to: number): SegmentFile[] {
    const files = [...this.files.values()].filter((file) => file.tier === tier && file.to > from && file.from <= to);
    if (tier === '10m') {
      // Days sealed before the 10m tier existed have only 1-minute rows: those answer (merged to 10 minutes or more by the query).
      const days = new Set(files.map((file) => file.from));
      files.push(...this.filesOf('1m', from, to).filter((file) => !days.has(file.from)));
    }
    return files.sort((a, b) => a.from - b.from);
  }

  /**
   * A segment's blocks of each topic (one per sealed hour), cached per file and topic while the file is
   * unchanged; the topics not cached are decoded in one read of the file. A corrupt file is reported once and skipped.
   */
  private segmentBlocks(file: SegmentFile, topics: readonly Topic[]): Map<Topic, Block[]> {
    const result = new Map<Topic, Block[]>();
    const missing = new Set<Topic>();
    for (const topic of topics) {
      const entry = this.cache.get(cacheKey(file, topic));
      if (entry && entry.fileBytes === file.bytes) result.set(topic, entry.blocks);
      else missing.add(topic);
    }
    if (missing.size > 0) {
      let decoded: Map<Topic, Block>;
      try {
        decoded = decodeFile(file, missing);
      } catch (error) {
        if (!this.reportedCorrupt.has(file.path)) {
          this.reportedCorrupt.add(file.path);
          const known = error instanceof CorruptSegmentError || error instanceof CorruptColumnFileError;
          this.log(`history: ${known ? error.message : describe(error)}; skipped (left as it is)`);
        }
        return result;
      }
      for (const topic of missing) {
        const block = decoded.get(topic);
        const blocks = block ? [block] : [];
        result.set(topic, blocks);
        this.cache.set(cacheKey(file, topic), {
          fileBytes: file.bytes,
          blocks,
          bytes: blocks.reduce((sum, block) => sum + blockBytes(block), 0),
        });
      }
    }
    for (const topic of topics) this.cache.touch(cacheKey(file, topic));
    this.cache.trim();
    return result;
  }

  private forget(file: SegmentFile): void {
    for (const topic of TOPICS) this.cache.delete(cacheKey(file, topic));
  }

  /** The open samples of a topic as columns (its pending ones moved into them first), or null when it has none. */
  private openBlock(topic: Topic): Block | null {
    if (!this.openColumns.has(topic) && !this.pending.has(topic)) return null;
    const columns = this.drain(topic, Number.POSITIVE_INFINITY);
    return columns.length > 0 ? columns.block() : null;
  }

  /** A topic's open columns (made when it has none). */
  private columnsOf(topic: Topic): RowColumns {
    let columns = this.openColumns.get(topic);
    if (!columns) {
      columns = new RowColumns(topic);
      this.openColumns.set(topic, columns);
    }
    return columns;
  }

  /** A topic's open columns with up to `most` of its pending samples moved into them, oldest first. */
  private drain(topic: Topic, most: number): RowColumns {
    const columns = this.columnsOf(topic);
    const pending = this.pending.get(topic);
    if (!pending) return columns;
    const moved = Math.min(most, pending.length);
    for (let i = 0; i < moved; i++) {
      const row = pending[i] as RawRow;
      columns.push(row.sample.t, row.sample, row.buckets);
    }
    if (moved === pending.length) this.pending.delete(topic);
    else pending.splice(0, moved);
    return columns;
  }

  private openTopics(): Topic[] {
    return [...new Set([...this.openColumns.keys(), ...this.pending.keys()])];
  }

  /** A topic's open samples as rows (the shape written to disk): what sealing and the journal's rewrite read. */
  private openRows(topic: Topic): RawRow[] {
    const block = this.openBlock(topic);
    return block ? rowsOfBlock(block, 0, block.length, false) : [];
  }

  /**
   * The open hour read back from the journal at start, turned into columns a thousand rows per turn of the
   * event loop, so that the first query does not do all of it (~130 ms for an hour at 1 Hz).
   */
  private fillOpenColumns(): void {
    for (const topic of [...this.pending.keys()]) this.drain(topic, HistoryStore.COLUMN_ROWS_PER_TURN);
    if (this.pending.size === 0) this.options.afterBulkWork?.();
    else if (this.timer) setImmediate(() => this.fillOpenColumns());
  }

  /** Replaces a topic's open samples with these rows (turned into columns when next read). */
  private setOpen(topic: Topic, rows: RawRow[]): void {
    this.openColumns.delete(topic);
    this.openMinutes.delete(topic);
    if (rows.length > 0) this.pending.set(topic, rows);
    else this.pending.delete(topic);
  }

  /** Keeps a topic's open samples from row `start` of its block on (copied into new columns). */
  private keepOpenFrom(topic: Topic, block: Block, start: number): void {
    this.openColumns.set(topic, RowColumns.fromBlock(block, start));
    this.openMinutes.delete(topic);
  }

  /** The open hour as 1-minute rows: its complete minutes (each merged once), then the minute in progress. */
  private openMinuteBlocks(topic: Topic, open: Block): Block[] {
    const minute = TIER_STEP_MS['1m'];
    const last = open.t[open.length - 1] as number;
    // Samples before the newest one's minute: their minutes are complete.
    const [complete] = rowsWithin(open, Math.floor(last / minute) * minute, Number.POSITIVE_INFINITY);
    let done = this.openMinutes.get(topic);
    if (!done || done.samples > complete) {
      done = { samples: 0, blocks: [] };
      this.openMinutes.set(topic, done);
    }
    if (done.samples < complete) {
      // Rows are only appended to the open hour: the minutes merged before are still its first rows.
      const minutes = new Merger(topic, minute);
      minutes.add(open, done.samples, complete);
      done.blocks.push(minutes.block());
      done.samples = complete;
    }
    const current = new Merger(topic, minute);
    current.add(open, complete, open.length);
    return [...done.blocks, current.block()];
  }

  /** Every hour before the current one still in the journal becomes a raw segment plus its 1m and 1h rows. */
  private async sealCompletedHours(): Promise<void> {
    if (this.trimmedWhileFailing && this.journal) {
      const read = Journal.read(this.journal.path);
      if (!read.ok) throw new Error(read.error);
      const fromDisk = new Map<Topic, RawRow[]>();
      for (const { topic, row } of read.records)
        fromDisk.set(topic, [...(fromDisk.get(topic) ?? []), { ...row, sample: restoredSample(topic, row.sample) }]);
      for (const [topic, rows] of fromDisk) this.setOpen(topic, mergeByTime(rows, this.openRows(topic)));
      this.trimmedWhileFailing = false;
    }
    const currentHour = Math.floor(this.now() / HOUR_MS) * HOUR_MS;
    const hours = new Set<number>();
    const addHour = (t: number) => {
      if (t < currentHour) hours.add(Math.floor(t / HOUR_MS) * HOUR_MS);
    };
    // Every 5 s: a full hour's times (~25 000 at 1 Hz) are walked only when some row is from a past hour.
    for (const columns of this.openColumns.values()) if (columns.oldest < currentHour) for (const t of columns.times()) addHour(t);
    for (const rows of this.pending.values()) for (const row of rows) addHour(row.sample.t);
    if (hours.size === 0) return;
    // The rows stay in memory (and answer queries) until their segments are on disk.
    for (const hour of [...hours].sort((a, b) => a - b)) await this.seal(hour);
    for (const topic of this.openTopics()) {
      const block = this.openBlock(topic);
      if (!block) continue;
      if (inTimeOrder(block.t)) this.keepOpenFrom(topic, block, firstAtOrAfter(block.t, currentHour));
      else
        this.setOpen(
          topic,
          rowsOfBlock(block, 0, block.length, false).filter((row) => row.sample.t >= currentHour),
        );
    }
    this.sealedUpTo = Math.max(this.sealedUpTo, currentHour);
    const lines: string[] = [];
    for (const topic of this.openTopics()) for (const row of this.openRows(topic)) lines.push(journalLine(topic, row));
    await this.journal?.rewrite(lines, this.sync);
    this.options.afterBulkWork?.();
  }

  private async seal(hour: number): Promise<void> {
    const dir = this.options.dir as string;
    const rawPeriod = periodOf('raw', hour);
    const rawPath = join(dir, 'raw', rawPeriod.name + SEGMENT_SUFFIX);
    // Raw rows already older than the raw tier keeps (a server that was down, the demo's older days) are not written.
    const keepRaw = hour + HOUR_MS > this.now() - this.options.retention.raw;
    const earlier = new Map<Topic, RawRow[]>();
    if (keepRaw) for (const chunk of safeRead(rawPath)) if (chunk.tier === 'raw') earlier.set(chunk.topic, decodeRaw(chunk));
    const rawLines: ChunkLine[] = [];
    const minuteBlocks: Block[] = [];
    const tenMinuteBlocks: Block[] = [];
    const hourBlocks: Block[] = [];
    for (const topic of this.openTopics()) {
      const raw = hourBlock(topic, this.openBlock(topic), hour, earlier.get(topic) ?? []);
      earlier.delete(topic);
      if (!raw) continue;
      const minutes = mergeBlock(raw, TIER_STEP_MS['1m']);
      if (keepRaw) rawLines.push(encodeBlock(raw, 'raw', hour, hour + HOUR_MS));
      minuteBlocks.push(minutes);
      tenMinuteBlocks.push(mergeBlock(minutes, TIER_STEP_MS['10m']));
      hourBlocks.push(mergeBlock(minutes, TIER_STEP_MS['1h']));
      // Each topic's work is a few milliseconds: let sampling and streams in between.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const [topic, rows] of earlier) rawLines.push(encodeBlock(blockOfRows(topic, rows), 'raw', hour, hour + HOUR_MS));
    if (rawLines.length > 0) await this.writeRaw(hour, rawLines);
    // A seal done again (after a crash before the journal was rewritten) appends its chunks again: readers take the last.
    await this.appendCoarse('1m', hour, minuteBlocks);
    await this.appendCoarse('10m', hour, tenMinuteBlocks);
    await this.appendCoarse('1h', hour, hourBlocks);
  }

  /**
   * A day's 10-minute file begun after some of its hours were sealed (a store written before the 10m
   * tier existed): those hours' 10-minute rows, from its 1-minute file, as one chunk to write first.
   */
  private async earlierTenMinuteChunk(hour: number): Promise<Buffer | null> {
    const day = periodOf('1m', hour);
    if (hour === day.from) return null;
    const minutesPath = join(this.options.dir as string, '1m', day.name + suffixOf('1m'));
    const blocks: Block[] = [];
    for (const block of readColumnFile(minutesPath).values()) {
      const [, end] = rowsWithin(block, day.from, hour - 1);
      if (end === 0) continue;
      const merger = new Merger(block.topic, TIER_STEP_MS['10m']);
      merger.add(block, 0, end);
      blocks.push(merger.block());
    }
    return blocks.length > 0 ? encodeChunk(blocks, '10m', day.from, hour) : null;
  }

  private async writeRaw(hour: number, lines: ChunkLine[]): Promise<void> {
    const period = periodOf('raw', hour);
    const path = join(this.options.dir as string, 'raw', period.name + SEGMENT_SUFFIX);
    const bytes = await writeSegment(path, lines, this.sync);
    this.files.set(path, { ...period, tier: 'raw', path, bytes });
  }

  private async appendCoarse(tier: CoarseTier, hour: number, blocks: Block[]): Promise<void> {
    if (blocks.length === 0) return;
    const period = periodOf(tier, hour);
    const path = join(this.options.dir as string, tier, period.name + suffixOf(tier));
    let known = this.files.get(path)?.bytes ?? 0;
    if (!this.appendable.has(path)) {
      known = await readyForAppend(path).catch((error) => {
        throw new Error(
          error instanceof CorruptColumnFileError ? `${error.message}; move it away so the next hour can be sealed` : describe(error),
        );
      });
      this.appendable.add(path);
    }
    const chunks = [await encodeChunk(blocks, tier, hour, hour + HOUR_MS)];
    if (tier === '10m' && known === 0) {
      const earlier = await this.earlierTenMinuteChunk(hour);
      if (earlier) chunks.unshift(earlier);
    }
    const bytes = await appendChunks(path, chunks, known, this.sync);
    this.files.set(path, { ...period, tier, path, bytes });
  }

  private applyRetention(): void {
    const now = this.now();
    for (const file of [...this.files.values()]) {
      if (file.to > now - this.options.retention[file.tier]) continue;
      unlinkSync(file.path);
      this.files.delete(file.path);
      this.forget(file);
      this.appendable.delete(file.path);
    }
  }

  private trimMemory(): void {
    const cutoff = this.now() - this.options.memoryMs;
    for (const topic of this.openTopics()) {
      if (this.pending.has(topic)) this.drain(topic, Number.POSITIVE_INFINITY);
      const times = this.columnsOf(topic).times();
      const keep = firstAtOrAfter(times, cutoff);
      // Cut when an eighth of what is held (at least 64 samples) is past the bound, not every few seconds: a cut copies the columns.
      if (keep === 0 || (keep < times.length && keep < Math.max(64, times.length >> 3))) continue;
      this.keepOpenFrom(topic, this.openBlock(topic) as Block, keep);
      if (this.journal) this.trimmedWhileFailing = true;
    }
    const dropped = this.journal?.bound(MAX_PENDING_LINES) ?? 0;
    if (dropped > 0) this.log(`history: ${dropped} samples waiting for the disk were dropped`);
  }

  /** Runs a write; `recovers`: its success means writing works again (a pending journal was written). */
  private async tryWrite(work: () => Promise<void>, recovers: boolean): Promise<void> {
    try {
      await work();
      if (recovers && this.error !== null && this.journal) {
        this.error = null;
        this.log(`history: writing to ${this.options.dir} again`);
        this.options.onStatusChange?.(this.status());
      }
    } catch (error) {
      const message = `history: cannot write to ${this.options.dir}: ${describe(error)}; history is not being written, live data is kept in memory`;
      if (this.error !== message) {
        this.error = message;
        this.log(message);
        this.options.onStatusChange?.(this.status());
      }
    }
  }
}

/**
 * A segment file's rows of each asked topic as one block. A coarse file may hold an hour twice (a seal
 * done again after a crash): the last chunk of a topic's hour wins (column-file.ts sees to it).
 */
function decodeFile(file: SegmentFile, topics: ReadonlySet<Topic>): Map<Topic, Block> {
  if (file.tier !== 'raw') return readColumnFile(file.path, topics);
  // A raw file is one hour: one chunk per topic (the last, should it hold one twice).
  const latest = new Map<Topic, Block>();
  for (const chunk of readSegment(file.path, topics)) latest.set(chunk.topic, blockOfChunk(chunk));
  return latest;
}

function readMarker(path: string): string | null {
  try {
    const marker = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown; version?: unknown };
    if (marker.format !== FORMAT.format) return `${MARKER_FILE} is not pulseboard's`;
    if (marker.version !== FORMAT.version) return `written by another version of the format (${String(marker.version)})`;
    return null;
  } catch (error) {
    return `${MARKER_FILE} is unreadable or corrupt (${describe(error)})`;
  }
}

/** Chunks of a segment this store is about to rewrite; an unreadable one is kept aside, never overwritten. */
function safeRead(path: string): ChunkLine[] {
  try {
    return readSegment(path);
  } catch (error) {
    if (!(error instanceof CorruptSegmentError)) throw error;
    throw new Error(`${error.message}; move it away so the next hour can be sealed`);
  }
}

/** Rows [start, end) of a block as samples: in the shape written to disk, or `restored` to the protocol's shape. */
function rowsOfBlock(block: Block, start: number, end: number, restored: boolean): RawRow[] {
  const rows: RawRow[] = [];
  for (let i = start; i < end; i++) {
    const numbers: [string, number][] = [];
    block.paths.forEach((path, p) => {
      const value = (block.value[p] as Float64Array)[i] as number;
      if (!Number.isNaN(value)) numbers.push([path, value]);
    });
    const others: [string, unknown][] = [];
    for (const [key, values] of block.others) if (values[i] !== undefined) others.push([key, values[i]]);
    const sample = unflatten(block.t[i] as number, numbers, others) as RawRow['sample'];
    const row: RawRow = { sample: restored ? restoredSample(block.topic, sample) : sample };
    const buckets = bucketsAt(block.buckets, i);
    if (buckets) row.buckets = buckets;
    rows.push(row);
  }
  return rows;
}

/**
 * A topic's samples of one hour as a block: the open block's rows of that hour (copied from its columns),
 * merged with the rows a raw segment of the hour holds already (a seal done again after a crash).
 */
function hourBlock(topic: Topic, open: Block | null, hour: number, earlier: readonly RawRow[]): Block | null {
  if (open && earlier.length === 0 && inTimeOrder(open.t)) {
    const start = firstAtOrAfter(open.t, hour);
    const end = firstAtOrAfter(open.t, hour + HOUR_MS);
    return end > start ? RowColumns.fromBlock(open, start, end).block() : null;
  }
  const inHour = open
    ? rowsOfBlock(open, 0, open.length, false).filter((row) => row.sample.t >= hour && row.sample.t < hour + HOUR_MS)
    : [];
  const rows = mergeByTime(earlier, inHour);
  return rows.length > 0 ? blockOfRows(topic, rows) : null;
}

function inTimeOrder(times: Float64Array): boolean {
  for (let i = 1; i < times.length; i++) if ((times[i] as number) < (times[i - 1] as number)) return false;
  return true;
}

/** The first index whose time is at least `t` (binary search: times in order), or the length. */
function firstAtOrAfter(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeByTime(a: readonly RawRow[], b: readonly RawRow[]): RawRow[] {
  const byTime = new Map<number, RawRow>();
  for (const row of a) byTime.set(row.sample.t, row);
  for (const row of b) byTime.set(row.sample.t, row);
  return [...byTime.values()].sort((x, y) => x.sample.t - y.sample.t);
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `not writable (${code})`;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return `no space left (${code})`;
  return firstLine(error);
}
