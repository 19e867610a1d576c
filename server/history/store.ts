import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstLine } from '../lib/errors.js';
import type { HistoryStatus, Topic } from '../protocol.js';
import { Journal, journalLine } from './journal.js';
import { FORMAT, HOUR_MS, JOURNAL_FILE, LOCK_FILE, MARKER_FILE, type Period, periodOf, periodOfName, SEGMENT_SUFFIX } from './layout.js';
import { DirectoryLock } from './lock.js';
import { persistedSample, restoredSample } from './persisted.js';
import { type Aggregate, type RawRow, rollup, rollupRaw } from './rollup.js';
import {
  type ChunkLine,
  CorruptSegmentError,
  decodeAggregates,
  decodeRaw,
  encodeAggregates,
  encodeRaw,
  readSegment,
  writeSegment,
} from './segment.js';
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
  /** Called when writing stops or starts again. */
  onStatusChange?: (status: HistoryStatus) => void;
}

export const DEFAULT_FLUSH_MS = 5000;
/** While the disk refuses writes, at most this many samples wait for it (about an hour of every topic at 1 Hz). */
const MAX_PENDING_LINES = 40_000;
const CACHED_SEGMENTS = 256;

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
  /** Samples not in a segment yet (with a directory), or the recent ones (memory only), per topic, oldest first. */
  private readonly open = new Map<Topic, RawRow[]>();
  private readonly files = new Map<string, SegmentFile>();
  private readonly cache = new Map<string, { key: string; rows: Map<string, RawRow[] | Aggregate[]> }>();
  private readonly reportedCorrupt = new Set<string>();
  private journal: Journal | null = null;
  private lock: DirectoryLock | null = null;
  private timer: NodeJS.Timeout | undefined;
  private error: string | null = null;
  /** Samples before this are sealed in segments; a late one (a clock stepped back) is not taken. */
  private sealedUpTo = Number.NEGATIVE_INFINITY;
  /** Memory was trimmed while the disk refused writes: the next seal reads the journal back so nothing written is lost. */
  private trimmedWhileFailing = false;

  private constructor(private readonly options: HistoryStoreOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((line) => process.stderr.write(`pulseboard: ${line}\n`));
    this.flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
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
    return { raw: ms, '1m': ms, '1h': ms };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.flushMs);
    this.timer.unref();
  }

  /** Writes what is pending and lets the directory go. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.writing) this.tryWrite(() => this.journal?.flush(), true);
    this.lock?.release();
  }

  record(topic: Topic, sample: { t: number } & object, buckets?: RawRow['buckets']): void {
    if (sample.t < this.sealedUpTo) return;
    const row: RawRow = { sample: persistedSample(topic, sample) };
    if (buckets) row.buckets = buckets;
    let rows = this.open.get(topic);
    if (!rows) {
      rows = [];
      this.open.set(topic, rows);
    }
    rows.push(row);
    this.journal?.add(journalLine(topic, row));
  }

  /** The periodic work: seal completed hours, write the journal, apply retention, keep memory bounded. */
  tick(): void {
    // After a failed write this is the retry: the disk may have room again.
    if (this.journal) {
      this.tryWrite(() => {
        this.journal?.flush();
        this.sealCompletedHours();
      }, true);
    }
    if (!this.writing) this.trimMemory();
    if (this.writing) this.tryWrite(() => this.applyRetention(), false);
  }

  /** Samples of a topic with time in [from, to], oldest first. */
  raw(topic: Topic, from: number, to: number): RawRow[] {
    const bound = Math.max(from, this.now() - this.retention.raw);
    const rows: RawRow[] = [];
    for (const file of this.filesOf('raw', bound, to)) {
      for (const row of this.segmentRows(file, topic) as RawRow[]) if (row.sample.t >= bound && row.sample.t <= to) rows.push(row);
    }
    const lastFileT = rows.at(-1)?.sample.t ?? Number.NEGATIVE_INFINITY;
    for (const row of this.open.get(topic) ?? []) {
      if (row.sample.t >= bound && row.sample.t <= to && row.sample.t > lastFileT) rows.push(row);
    }
    return rows;
  }

  /** Rows of a coarse tier in [from, to]: sealed ones from its segments, the open hour rolled up now. */
  aggregates(tier: CoarseTier, topic: Topic, from: number, to: number): Aggregate[] {
    const step = TIER_STEP_MS[tier];
    const bound = Math.max(from, this.now() - this.retention[tier]);
    const first = Math.floor(bound / step) * step;
    const rows: Aggregate[] = [];
    for (const file of this.filesOf(tier, first, to)) {
      for (const row of this.segmentRows(file, topic) as Aggregate[]) if (row.t >= first && row.t <= to) rows.push(row);
    }
    const lastFileT = rows.at(-1)?.t ?? Number.NEGATIVE_INFINITY;
    const open = (this.open.get(topic) ?? []).filter((row) => row.sample.t >= first && row.sample.t <= to + step);
    for (const row of rollup(rollupRaw(open, 60_000), step)) if (row.t > lastFileT && row.t <= to) rows.push(row);
    return rows;
  }

  status(): HistoryStatus {
    let bytes = this.journal?.size ?? 0;
    let oldest: number | null = null;
    for (const file of this.files.values()) {
      bytes += file.bytes;
      if (oldest === null || file.from < oldest) oldest = file.from;
    }
    for (const rows of this.open.values()) {
      const t = rows[0]?.sample.t;
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
      for (const { topic, row } of read.records.sort((a, b) => a.row.sample.t - b.row.sample.t)) {
        restoredSample(topic, row.sample);
        let rows = this.open.get(topic);
        if (!rows) {
          rows = [];
          this.open.set(topic, rows);
        }
        rows.push(row);
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
    return [...this.files.values()]
      .filter((file) => file.tier === tier && file.to > from && file.from <= to)
      .sort((a, b) => a.from - b.from);
  }

  /** Decoded rows of one topic in a segment, cached while the file is unchanged. A corrupt file is reported once and skipped. */
  private segmentRows(file: SegmentFile, topic: Topic): RawRow[] | Aggregate[] {
    const key = `${file.bytes}`;
    let entry = this.cache.get(file.path);
    if (!entry || entry.key !== key) {
      let chunks: ChunkLine[];
      try {
        chunks = readSegment(file.path);
      } catch (error) {
        if (!this.reportedCorrupt.has(file.path)) {
          this.reportedCorrupt.add(file.path);
          this.log(`history: ${error instanceof CorruptSegmentError ? error.message : describe(error)}; skipped (left as it is)`);
        }
        return [];
      }
      const rows = new Map<string, RawRow[] | Aggregate[]>();
      for (const chunk of chunks) {
        const decoded =
          chunk.tier === 'raw'
            ? decodeRaw(chunk).map((row) => ({ ...row, sample: restoredSample(chunk.topic, row.sample) }))
            : decodeAggregates(chunk);
        const list = (rows.get(chunk.topic) ?? []) as (RawRow | Aggregate)[];
        rows.set(chunk.topic, [...list, ...decoded] as RawRow[] | Aggregate[]);
      }
      for (const list of rows.values()) list.sort((a, b) => timeOf(a) - timeOf(b));
      entry = { key, rows };
      this.cache.delete(file.path);
      this.cache.set(file.path, entry);
      if (this.cache.size > CACHED_SEGMENTS) this.cache.delete(this.cache.keys().next().value as string);
    }
    return entry.rows.get(topic) ?? [];
  }

  /** Every hour before the current one still in the journal becomes a raw segment plus its 1m and 1h rows. */
  private sealCompletedHours(): void {
    if (this.trimmedWhileFailing && this.journal) {
      const read = Journal.read(this.journal.path);
      if (!read.ok) throw new Error(read.error);
      const fromDisk = new Map<Topic, RawRow[]>();
      for (const { topic, row } of read.records)
        fromDisk.set(topic, [...(fromDisk.get(topic) ?? []), { ...row, sample: restoredSample(topic, row.sample) }]);
      for (const [topic, rows] of fromDisk) this.open.set(topic, mergeByTime(rows, this.open.get(topic) ?? []));
      this.trimmedWhileFailing = false;
    }
    const currentHour = Math.floor(this.now() / HOUR_MS) * HOUR_MS;
    const hours = new Set<number>();
    for (const rows of this.open.values())
      for (const row of rows) if (row.sample.t < currentHour) hours.add(Math.floor(row.sample.t / HOUR_MS) * HOUR_MS);
    if (hours.size === 0) return;
    for (const hour of [...hours].sort((a, b) => a - b)) this.seal(hour);
    for (const [topic, rows] of this.open)
      this.open.set(
        topic,
        rows.filter((row) => row.sample.t >= currentHour),
      );
    this.sealedUpTo = Math.max(this.sealedUpTo, currentHour);
    const lines: string[] = [];
    for (const [topic, rows] of this.open) for (const row of rows) lines.push(journalLine(topic, row));
    this.journal?.rewrite(lines);
  }

  private seal(hour: number): void {
    const dir = this.options.dir as string;
    const rawPeriod = periodOf('raw', hour);
    const rawPath = join(dir, 'raw', rawPeriod.name + SEGMENT_SUFFIX);
    const earlier = new Map<Topic, RawRow[]>();
    for (const chunk of safeRead(rawPath)) if (chunk.tier === 'raw') earlier.set(chunk.topic, decodeRaw(chunk));
    const rawLines: ChunkLine[] = [];
    const minuteLines: ChunkLine[] = [];
    const hourLines: ChunkLine[] = [];
    for (const [topic, open] of this.open) {
      const rows = mergeByTime(
        earlier.get(topic) ?? [],
        open.filter((row) => row.sample.t >= hour && row.sample.t < hour + HOUR_MS),
      );
      earlier.delete(topic);
      if (rows.length === 0) continue;
      const minutes = rollupRaw(rows, TIER_STEP_MS['1m']);
      rawLines.push(encodeRaw(topic, hour, hour + HOUR_MS, rows));
      minuteLines.push(encodeAggregates(topic, '1m', hour, hour + HOUR_MS, minutes));
      hourLines.push(encodeAggregates(topic, '1h', hour, hour + HOUR_MS, rollup(minutes, TIER_STEP_MS['1h'])));
    }
    for (const [topic, rows] of earlier) rawLines.push(encodeRaw(topic, hour, hour + HOUR_MS, rows));
    this.writeFile('raw', hour, rawLines, () => true);
    for (const [tier, lines] of [
      ['1m', minuteLines],
      ['1h', hourLines],
    ] as const) {
      const sealed = new Set(lines.map((line) => line.topic));
      // A seal done again (after a crash before the journal was rewritten) replaces its own chunks.
      this.writeFile(tier, hour, lines, (old) => !(old.from === hour && sealed.has(old.topic)));
    }
  }

  private writeFile(tier: Tier, t: number, lines: ChunkLine[], keep: (old: ChunkLine) => boolean): void {
    const period = periodOf(tier, t);
    const path = join(this.options.dir as string, tier, period.name + SEGMENT_SUFFIX);
    const kept = tier === 'raw' ? [] : safeRead(path).filter(keep);
    const bytes = writeSegment(path, [...kept, ...lines]);
    this.files.set(path, { ...period, tier, path, bytes });
  }

  private applyRetention(): void {
    const now = this.now();
    for (const file of [...this.files.values()]) {
      if (file.to > now - this.options.retention[file.tier]) continue;
      unlinkSync(file.path);
      this.files.delete(file.path);
      this.cache.delete(file.path);
    }
  }

  private trimMemory(): void {
    const cutoff = this.now() - this.options.memoryMs;
    for (const [topic, rows] of this.open) {
      const keep = rows.findIndex((row) => row.sample.t >= cutoff);
      if (keep === 0) continue;
      this.open.set(topic, keep === -1 ? [] : rows.slice(keep));
      if (this.journal) this.trimmedWhileFailing = true;
    }
    const dropped = this.journal?.bound(MAX_PENDING_LINES) ?? 0;
    if (dropped > 0) this.log(`history: ${dropped} samples waiting for the disk were dropped`);
  }

  /** Runs a write; `recovers`: its success means writing works again (a pending journal was written). */
  private tryWrite(work: () => void, recovers: boolean): void {
    try {
      work();
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

function mergeByTime(a: readonly RawRow[], b: readonly RawRow[]): RawRow[] {
  const byTime = new Map<number, RawRow>();
  for (const row of a) byTime.set(row.sample.t, row);
  for (const row of b) byTime.set(row.sample.t, row);
  return [...byTime.values()].sort((x, y) => x.sample.t - y.sample.t);
}

function timeOf(row: RawRow | Aggregate): number {
  return 'sample' in row ? row.sample.t : row.t;
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `not writable (${code})`;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return `no space left (${code})`;
  return firstLine(error);
}
