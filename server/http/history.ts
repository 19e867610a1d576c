import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
/**
 * zlib's fastest level: a 24-hour answer of the 30-day demo store (1.09 MB of JSON) gzips in ~11 ms to
 * 231 KB, against ~25 ms to 197 KB at the default level 6 (7 days: 1.75 MB, ~13 ms against ~42 ms).
 */
const GZIP_LEVEL = 1;

/** The bytes of an answer: Buffers from JSON text or zlib, backed by a plain ArrayBuffer as Hono's body() wants. */
export type Encoded = Uint8Array<ArrayBuffer>;

export interface HistoryLimits {
  /** Builds that may wait for their turn; past it a request is refused (503). */
  waiting: number;
  /** Encoded answers kept for requests that ask the same again, at most this many... */
  kept: number;
  /** ...and of at most this many bytes together (an answer larger than this alone is not kept once sent). */
  keptBytes: number;
}

export const HISTORY_LIMITS: HistoryLimits = { waiting: 32, kept: 8, keptBytes: 4 * 2 ** 20 };

/** Seconds a refused history request is told to wait. */
export const HISTORY_RETRY_AFTER_SECONDS = 2;

interface Kept {
  answer: Promise<Encoded>;
  /** Its length once built (0 while building). */
  bytes: number;
}

/**
 * `/api/history` answers, encoded (JSON, and gzip when asked) once per `key`, which names everything the
 * answer depends on (host, boot, log position, topics, since, encoding): every request that asks the same
 * while the log has not moved gets the same bytes. Building is synchronous work on the one event-loop
 * thread, so builds run one at a time, each in its own turn of the loop, and other requests are served
 * between them.
 */
export class HistoryAnswers {
  private readonly answers = new Map<string, Kept>();
  private keptBytes = 0;
  private readonly queue: (() => void)[] = [];
  private busy = false;
  private built = 0;
  private readonly release = () => this.clear();

  constructor(
    private readonly limits: HistoryLimits = HISTORY_LIMITS,
    /**
     * Called after each answer is built: its decoding and encoding are garbage by then, and the answers kept
     * may go (`release`) once requests have stopped.
     */
    private readonly afterBuild: (release: () => void) => void = () => {},
  ) {}

  /** Answers built so far (each key once). */
  get builds(): number {
    return this.built;
  }

  /** The encoded answer, or null when too many builds are waiting already (the caller answers 503). */
  answer(key: string, build: () => unknown, gzipped: boolean): Promise<Encoded> | null {
    const known = this.answers.get(key);
    if (known) return known.answer;
    if (this.queue.length >= this.limits.waiting) return null;
    const answer = this.turn().then(async () => {
      try {
        this.built++;
        const json = Buffer.from(JSON.stringify(build()));
        return (gzipped ? await gzipAsync(json, { level: GZIP_LEVEL }) : json) as Encoded;
      } finally {
        this.afterBuild(this.release);
        this.next();
      }
    });
    const kept: Kept = { answer, bytes: 0 };
    this.answers.set(key, kept);
    answer.then(
      (bytes) => this.settled(key, kept, bytes.length),
      () => this.forget(key, kept),
    );
    return answer;
  }

  /** Resolves in a later turn of the event loop, once no other build runs. */
  private turn(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(() => setImmediate(resolve));
      if (!this.busy) this.next();
    });
  }

  private next(): void {
    const start = this.queue.shift();
    this.busy = start !== undefined;
    start?.();
  }

  /**
   * Lets go of the answers already built (one still being built is kept for the requests waiting on it).
   * A kept answer names its log position, which moves every tick: once requests stop, none is asked again.
   */
  clear(): void {
    for (const [key, kept] of this.answers) if (kept.bytes > 0) this.forget(key, kept);
  }

  /** Bytes of the answers kept now (answers still being built count once they are done). */
  get bytesKept(): number {
    return this.keptBytes;
  }

  /** A built answer counts its bytes; the oldest go until the count and the bytes are within the limits. */
  private settled(key: string, kept: Kept, bytes: number): void {
    if (this.answers.get(key) !== kept) return;
    if (bytes > this.limits.keptBytes) {
      this.answers.delete(key);
      return;
    }
    kept.bytes = bytes;
    this.keptBytes += bytes;
    for (const [oldestKey, oldest] of this.answers) {
      if (this.answers.size <= this.limits.kept && this.keptBytes <= this.limits.keptBytes) break;
      this.forget(oldestKey, oldest);
    }
  }

  private forget(key: string, kept: Kept): void {
    if (this.answers.get(key) !== kept) return;
    this.answers.delete(key);
    this.keptBytes -= kept.bytes;
  }
}

/** Whether `Accept-Encoding` takes gzip: named (or `*`, when gzip is not named) without `q=0`. */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let wildcard = false;
  for (const item of header.split(',')) {
    const [name = '', ...parameters] = item.split(';');
    const coding = name.trim().toLowerCase();
    const quality = parameters.map((parameter) => parameter.trim().toLowerCase()).find((parameter) => parameter.startsWith('q='));
    const accepted = quality === undefined || Number(quality.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') wildcard = accepted;
  }
  return wildcard;
}
