import type { Collector } from '../collect/collector.js';
import { firstLine, oneLine } from '../lib/errors.js';
import type { RequestsSample } from '../protocol.js';
import { parseAccessLineAt } from './access-log-format.js';
import { loadPositions, savePositions } from './access-log-positions.js';
import { FileFollower, type FilePosition } from './file-follower.js';
import type { RequestStats } from './stats.js';

export interface AccessLogOptions {
  /** The logs to follow (`--access-log`). */
  files: readonly string[];
  /** Where each log's read position is kept across restarts; null: read from the end at each start. */
  dataDir: string | null;
  /** Whether the data directory is ours and being written (durable history's say); positions are saved only then. */
  dataDirWritable?: () => boolean;
}

const EXAMPLE_CHARS = 160;

/**
 * Web servers' access logs as the source of the `requests` topic: each log is followed like `tail -F`, each
 * line parsed (nginx, Apache, Caddy) and counted as one request. Reading happens at each tick, just before
 * the tick's sample is taken. Lines that do not parse are counted and one of them is shown as the
 * collector's warning; they never stop the reading.
 */
export class AccessLogSource {
  private readonly followers: FileFollower[];
  private readonly positions: Map<string, FilePosition>;
  private tickUnparsed = 0;
  private example: string | null = null;
  private savedJson = '';

  constructor(
    private readonly options: AccessLogOptions,
    private readonly stats: RequestStats,
  ) {
    this.positions = loadPositions(options.dataDir);
    this.followers = options.files.map(
      (path) =>
        new FileFollower(path, {
          onLines: (text) => this.count(path, text),
          resume: this.positions.get(path) ?? null,
          startAt: 'end',
        }),
    );
    // Where each log stands now is the start: lines written before the first tick are traffic of this run.
    // (Nothing is saved yet: the data directory is not opened, and checked as ours, before the monitor is.)
    this.readLogs();
  }

  /** Reads what every log has gained since the last call, and saves where each one now stands. */
  poll(): void {
    this.readLogs();
    this.savePositions();
  }

  private readLogs(): void {
    for (const follower of this.followers) {
      try {
        follower.poll();
      } catch (error) {
        // A read that fails (EIO, a file system gone) is said like an unreadable log; the next tick tries again.
        follower.problem = `cannot read ${follower.path} (${(error as NodeJS.ErrnoException).code ?? firstLine(error)})`;
      }
    }
  }

  collector(cadenceMs: number): Collector<'requests'> {
    return {
      topic: 'requests',
      source: `access log (${this.options.files.join(', ')})`,
      cadenceMs,
      sample: (now) => this.sample(now),
      warning: () => this.warning(),
      close: () => this.close(),
    };
  }

  sample(now: number): RequestsSample {
    this.poll();
    const unparsed = this.tickUnparsed;
    this.tickUnparsed = 0;
    return { ...this.stats.sample(now), logs: [...this.options.files], unparsed };
  }

  /** Unreadable logs first (they hide all traffic), then the first line that did not parse. */
  warning(): string | undefined {
    const problems = this.followers.map((follower) => follower.problem).filter((problem) => problem !== null);
    if (problems.length > 0) return problems.join('; ');
    return this.example ?? undefined;
  }

  close(): void {
    this.savePositions();
    for (const follower of this.followers) follower.close();
  }

  private count(path: string, text: string): void {
    let start = 0;
    // The next backslash at or after `start` (text.length: none), found once per stretch of lines, not per line.
    let backslash = -1;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const lineStart = start;
      const lineEnd = text.charCodeAt(end - 1) === 0x0d && end > start ? end - 1 : end;
      start = end + 1;
      if (lineEnd === lineStart) continue;
      if (backslash < lineStart) {
        backslash = text.indexOf('\\', lineStart);
        if (backslash < 0) backslash = text.length;
      }
      const parsed = parseAccessLineAt(text, lineStart, lineEnd, backslash);
      if (parsed.ok) {
        const { route, statusClass, ms, bytes } = parsed.request;
        this.stats.requestEnded(route, statusClass, ms, bytes);
      } else {
        this.tickUnparsed++;
        const line = text.slice(lineStart, Math.min(lineEnd, lineStart + EXAMPLE_CHARS));
        this.example ??= `lines of ${path} that are not access-log lines (${parsed.reason}), e.g. ${JSON.stringify(oneLine(line))}`;
      }
    }
  }

  private savePositions(): void {
    const dataDir = this.options.dataDir;
    // A directory durable history refused (not ours, in use by another server) is not written to either.
    if (dataDir === null || this.options.dataDirWritable?.() === false) return;
    for (const follower of this.followers) {
      const position = follower.position();
      if (position) this.positions.set(follower.path, position);
    }
    const json = JSON.stringify([...this.positions]);
    if (json === this.savedJson) return;
    try {
      savePositions(dataDir, this.positions);
      this.savedJson = json;
    } catch {
      // The data directory's own health says when it cannot be written; the logs are still read.
    }
  }
}
