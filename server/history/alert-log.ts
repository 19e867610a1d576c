import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstLine } from '../lib/errors.js';
import { type AlertHistoryResponse, type AlertPayload, type AlertRange, GAUGES, type SilencePayload } from '../protocol.js';
import { ALERTS_FILE } from './layout.js';

/** One line of the file: an alert change, a silence, or a start of the server (which ends what fired before it). */
export type AlertLogEntry =
  | { event: 'alert'; data: AlertPayload }
  | { event: 'silence'; data: SilencePayload }
  | { event: 'start'; t: number };

export interface AlertLogOptions {
  /** The data directory (already locked by the history store); null keeps the log in memory only. */
  dir: string | null;
  /** Entries older than this go (the 1-minute tier's retention). */
  retentionMs: number;
  /** At most this many entries are kept, the oldest dropped first. */
  maxEntries?: number;
  now?: () => number;
  log?: (line: string) => void;
}

const SEVERITIES = ['warning', 'critical'];
const STATES = ['firing', 'resolved'];

/**
 * The history of alerts: every change and silence, appended to `alerts.ndjson` in the data directory as it
 * happens, read back at start, pruned to the retention and a count. Small by nature (alerts are rare), so
 * it is held in memory whole and rewritten only when pruning drops lines.
 */
export class AlertLog {
  private entries: AlertLogEntry[] = [];
  private readonly path: string | null;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private failed = false;
  private fileBytes = 0;

  constructor(private readonly options: AlertLogOptions) {
    this.path = options.dir === null ? null : join(options.dir, ALERTS_FILE);
    this.maxEntries = options.maxEntries ?? 20_000;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((line) => process.stderr.write(`pulseboard: ${line}\n`));
    if (this.path && existsSync(this.path)) {
      this.entries = this.read(this.path);
      this.fileBytes = statSync(this.path).size;
    }
    this.prune(true);
    this.append({ event: 'start', t: this.now() });
  }

  append(entry: AlertLogEntry): void {
    this.entries.push(entry);
    if (this.path && !this.failed) {
      try {
        const line = `${JSON.stringify(entry)}\n`;
        appendFileSync(this.path, line);
        this.fileBytes += Buffer.byteLength(line);
      } catch (error) {
        this.failed = true;
        this.log(`alert history: cannot write ${this.path} (${firstLine(error)}); alert history is kept in memory only`);
      }
    }
    if (this.entries.length > this.maxEntries * 1.1) this.prune(true);
  }

  /** Drops entries past the retention (hourly, from the monitor) and rewrites the file when any went. */
  prune(force = false): void {
    const oldest = this.now() - this.options.retentionMs;
    const kept = this.entries.filter((entry) => timeOf(entry) >= oldest).slice(-this.maxEntries);
    if (kept.length === this.entries.length && !force) return;
    const changed = kept.length !== this.entries.length;
    this.entries = kept;
    if (!changed || !this.path || this.failed) return;
    try {
      const temporary = `${this.path}.tmp`;
      const text = kept.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      writeFileSync(temporary, text);
      renameSync(temporary, this.path);
      this.fileBytes = Buffer.byteLength(text);
    } catch (error) {
      this.failed = true;
      this.log(`alert history: cannot rewrite ${this.path} (${firstLine(error)}); alert history is kept in memory only`);
    }
  }

  /** What `alerts.ndjson` holds on disk (0 without a data directory): part of the history's disk use. */
  get bytes(): number {
    return this.path ? this.fileBytes : 0;
  }

  /** Silences that were set before this start and are not over yet. */
  silences(now: number): SilencePayload[] {
    const until = new Map<string, SilencePayload>();
    for (const entry of this.entries) if (entry.event === 'silence') until.set(entry.data.rule, entry.data);
    return [...until.values()].filter((silence) => silence.until !== null && silence.until > now);
  }

  /** The changes in [from, to] and the firing spans that overlap it. */
  query(from: number, to: number): AlertHistoryResponse {
    const changes: AlertPayload[] = [];
    const ranges: AlertRange[] = [];
    const open = new Map<string, AlertRange>();
    for (const entry of this.entries) {
      if (entry.event === 'start') {
        for (const range of open.values()) Object.assign(range, { to: entry.t, end: 'restart' });
        open.clear();
        continue;
      }
      if (entry.event !== 'alert') continue;
      const alert = entry.data;
      if (alert.t >= from && alert.t <= to) changes.push(alert);
      const current = open.get(alert.rule);
      if (alert.state === 'firing' && !current) {
        const range: AlertRange = {
          rule: alert.rule,
          metric: alert.metric,
          severity: alert.severity,
          from: alert.since,
          to: null,
          end: null,
        };
        open.set(alert.rule, range);
        ranges.push(range);
      } else if (alert.state === 'resolved' && current) {
        Object.assign(current, { to: alert.t, end: 'resolved' });
        open.delete(alert.rule);
      }
    }
    return { from, to, changes, ranges: ranges.filter((range) => range.from <= to && (range.to === null || range.to >= from)) };
  }

  /** Lines that do not parse or do not fit are skipped and counted in one log line: the rest still loads. */
  private read(path: string): AlertLogEntry[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      this.log(`alert history: cannot read ${path} (${firstLine(error)}); starting a new one`);
      return [];
    }
    const entries: AlertLogEntry[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const entry = parseEntry(line);
      if (entry) entries.push(entry);
      else skipped++;
    }
    if (skipped > 0) this.log(`alert history: ${path}: skipped ${skipped} line(s) that are not alert history`);
    return entries;
  }
}

function timeOf(entry: AlertLogEntry): number {
  return entry.event === 'start' ? entry.t : entry.data.t;
}

function parseEntry(line: string): AlertLogEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  if (value.event === 'start') return isFiniteNumber(value.t) ? { event: 'start', t: value.t } : null;
  const data = value.data;
  if (!isRecord(data) || !isFiniteNumber(data.t) || typeof data.rule !== 'string') return null;
  if (value.event === 'silence') {
    return data.until === null || isFiniteNumber(data.until)
      ? { event: 'silence', data: { t: data.t, rule: data.rule, until: data.until } }
      : null;
  }
  if (value.event !== 'alert') return null;
  const { t, rule, metric, state, severity, value: reading, threshold, since, message } = data;
  if (!(GAUGES as readonly unknown[]).includes(metric) || !STATES.includes(state as string) || !SEVERITIES.includes(severity as string))
    return null;
  if (!isFiniteNumber(reading) || !isFiniteNumber(threshold) || !isFiniteNumber(since) || typeof message !== 'string') return null;
  const alert = { t, rule, metric, state, severity, value: reading, threshold, since, message } as AlertPayload;
  return { event: 'alert', data: alert };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
