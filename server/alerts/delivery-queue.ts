import { oneLine } from '../lib/errors.js';

/** Shorter secrets are not scrubbed: a 1-3 character one would blank that text out of every line. */
const MIN_SCRUBBED = 4;

/** One try's outcome: delivered, dropped for good (logged with `reason`), or worth another try. */
export type Attempt = { outcome: 'delivered' } | { outcome: 'dropped'; reason: string } | { outcome: 'retry'; reason: string };

export interface DeliveryQueueOptions {
  /** Tries per item before it is given up (logged). */
  attempts?: number;
  /** First retry delay; it doubles per try, up to a minute. */
  retryDelayMs?: number;
  /** Items waiting beyond this drop the oldest (logged): a dead receiver must not grow memory. */
  maxQueue?: number;
  /** Failed tries in a row after which the channel reports itself failing. */
  failingAfter?: number;
  log?: (line: string) => void;
  /** Called when the channel starts or stops failing. */
  onHealthChange?: () => void;
}

/** How a delivery target is doing, for `/healthz` and `health` events. Never holds a secret. */
export interface DeliveryHealth {
  ok: boolean;
  /** Items waiting. */
  pending: number;
  /** Failed tries in a row. */
  failures: number;
  /** The newest failure's reason, while failing. */
  reason: string | null;
  /** When it started failing, ms since epoch. */
  since: number | null;
}

/**
 * Delivers items one at a time and in order, retrying with exponential backoff. `send` only queues: the
 * caller (sampling) never waits on the network. Every line it logs passes through `scrub`, so a secret
 * in a receiver's answer never reaches the log.
 */
export class DeliveryQueue<T> {
  private readonly queue: T[] = [];
  private running = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly options: Required<DeliveryQueueOptions>;
  private failures = 0;
  private failingSince: number | null = null;
  private lastReason: string | null = null;

  /**
   * @param label  starts every log line (`alert webhook`, `alert channel "ops" (slack)`)
   * @param target what a try does, for the log (`POST to https://hooks.slack.com`)
   * @param attempt one try of one item
   * @param describe an item in a log line (`firing change of cpu-busy`)
   * @param secrets strings that must never appear in a log line or a reason
   */
  constructor(
    private readonly label: string,
    private readonly target: string,
    private readonly attempt: (item: T) => Promise<Attempt>,
    private readonly describe: (item: T) => string,
    options: DeliveryQueueOptions = {},
    private readonly secrets: readonly string[] = [],
  ) {
    this.options = {
      attempts: 6,
      retryDelayMs: 1000,
      maxQueue: 1000,
      failingAfter: 3,
      log: (line) => process.stderr.write(`pulseboard: ${line}\n`),
      onHealthChange: () => {},
      ...options,
    };
  }

  get pending(): number {
    return this.queue.length;
  }

  health(): DeliveryHealth {
    const failing = this.failingSince !== null;
    return {
      ok: !failing,
      pending: this.queue.length,
      failures: this.failures,
      reason: failing ? this.lastReason : null,
      since: this.failingSince,
    };
  }

  send(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
    if (this.queue.length > this.options.maxQueue) {
      const dropped = this.queue.shift() as T;
      this.log(`queue full, dropped the ${this.describe(dropped)}`);
    }
    if (!this.running) void this.drain();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.wake?.();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.closed) {
      const item = this.queue[0] as T;
      const delivered = await this.deliver(item);
      if (this.queue[0] === item) this.queue.shift();
      if (!delivered && !this.closed) this.log(`gave up on the ${this.describe(item)} after ${this.options.attempts} tries`);
    }
    this.running = false;
  }

  private async deliver(item: T): Promise<boolean> {
    const { attempts } = this.options;
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      let result: Attempt;
      try {
        result = await this.attempt(item);
      } catch (error) {
        result = { outcome: 'retry', reason: error instanceof Error ? error.message : String(error) };
      }
      if (result.outcome === 'delivered') {
        this.succeeded();
        return true;
      }
      if (result.outcome === 'dropped') {
        this.log(result.reason);
        this.failed(result.reason);
        return true;
      }
      this.log(`${this.target} failed (try ${attempt} of ${attempts}): ${result.reason}`);
      this.failed(result.reason);
      if (attempt < attempts) await this.sleep(Math.min(60_000, this.options.retryDelayMs * 2 ** (attempt - 1)));
    }
    return false;
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.failingSince === null) return;
    this.failingSince = null;
    this.lastReason = null;
    this.options.onHealthChange();
  }

  private failed(reason: string): void {
    this.failures++;
    this.lastReason = this.scrub(reason).slice(0, 200);
    if (this.failingSince === null && this.failures >= this.options.failingAfter) {
      this.failingSince = Date.now();
      this.options.onHealthChange();
    }
  }

  private log(line: string): void {
    this.options.log(`${this.label}: ${this.scrub(line)}`);
  }

  /** One line with every secret replaced by `***`. */
  private scrub(text: string): string {
    let clean = text;
    for (const secret of this.secrets) if (secret.length >= MIN_SCRUBBED) clean = clean.split(secret).join('***');
    return oneLine(clean);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        resolve();
      }
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
