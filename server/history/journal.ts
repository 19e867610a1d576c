import { appendFileSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { TOPICS, type Topic } from '../protocol.js';
import { isLatencyBuckets, type LatencyBuckets } from './latency-buckets.js';
import type { RawRow } from './rollup.js';

export interface JournalRecord {
  topic: Topic;
  row: RawRow;
}

export type JournalRead = { ok: true; records: JournalRecord[] } | { ok: false; error: string };

/**
 * One line per sample: `{"topic":"cpu","sample":{...}}`, with `"buckets"` for requests that had traffic.
 * `sampleJson` is `JSON.stringify(row.sample)` when the caller has it already (the wire's encoding made it).
 */
export function journalLine(topic: Topic, row: RawRow, sampleJson = JSON.stringify(row.sample)): string {
  const buckets = row.buckets ? `,"buckets":${JSON.stringify(row.buckets)}` : '';
  return `{"topic":"${topic}","sample":${sampleJson}${buckets}}\n`;
}

function parseRecord(text: string): JournalRecord | null {
  let value: { topic?: unknown; sample?: unknown; buckets?: unknown };
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const { topic, sample, buckets } = value;
  if (!(TOPICS as readonly unknown[]).includes(topic)) return null;
  if (sample === null || typeof sample !== 'object' || !Number.isFinite((sample as { t?: unknown }).t)) return null;
  if (buckets !== undefined && !isLatencyBuckets(buckets)) return null;
  const row: RawRow = { sample: sample as RawRow['sample'] };
  if (buckets) row.buckets = buckets as LatencyBuckets;
  return { topic: topic as Topic, row };
}

/**
 * The samples of the hour not yet sealed into a segment, as NDJSON appended every few seconds. A write
 * reaches the kernel when `flush` returns, so a killed process loses only what was still pending; the
 * last line may be torn by a kill mid-write, and is skipped. Any other line that does not parse means
 * the file is not ours (or was damaged): it is reported, never rewritten.
 */
export class Journal {
  private pending: string[] = [];
  private bytes = 0;

  constructor(readonly path: string) {
    try {
      this.bytes = statSync(path).size;
    } catch {
      this.bytes = 0;
    }
  }

  static read(path: string): JournalRead {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, records: [] };
      return { ok: false, error: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
    const lines = text.split('\n');
    const records: JournalRecord[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line === '') continue;
      const record = parseRecord(line);
      if (record) records.push(record);
      else if (i < lines.length - 1) return { ok: false, error: `${path} line ${i + 1} is not a pulseboard sample` };
    }
    return { ok: true, records };
  }

  get size(): number {
    return this.bytes;
  }

  get pendingLines(): number {
    return this.pending.length;
  }

  add(line: string): void {
    this.pending.push(line);
  }

  /** Drops the oldest pending lines past `max` (nothing can be written: the disk is full or gone). */
  bound(max: number): number {
    const excess = this.pending.length - max;
    if (excess <= 0) return 0;
    this.pending.splice(0, excess);
    return excess;
  }

  /** Appends what is pending. Throws the file system's error; the lines stay pending for the next try. */
  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    try {
      appendFileSync(this.path, text);
    } catch (error) {
      // A write cut short (disk full) leaves part of a line: cut it off, so the next try appends whole lines.
      try {
        truncateSync(this.path, this.bytes);
      } catch {}
      throw error;
    }
    this.bytes += Buffer.byteLength(text);
    this.pending = [];
  }

  /**
   * Replaces the file with these lines (after a seal): a temporary file, fsync, rename. `lines` must hold
   * every pending line: they are taken now, and lines added while the write runs stay pending.
   */
  async rewrite(lines: readonly string[], sync = true): Promise<void> {
    const taken = this.pending;
    this.pending = [];
    const text = lines.join('');
    const temporary = `${this.path}.tmp`;
    try {
      const file = await open(temporary, 'w');
      try {
        await file.write(text);
        if (sync) await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      // The old file is still there: what was pending before is appended to it on the next try.
      this.pending = [...taken, ...this.pending];
      throw error;
    }
    this.bytes = Buffer.byteLength(text);
  }
}
