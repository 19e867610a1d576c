import type { AlertPayload } from '../protocol.js';

export interface WebhookOptions {
  /** Tries per alert change before it is given up (logged). */
  attempts?: number;
  /** First retry delay; it doubles per try, up to a minute. */
  retryDelayMs?: number;
  timeoutMs?: number;
  /** Changes waiting beyond this drop the oldest (logged): a dead receiver must not grow memory. */
  maxQueue?: number;
  log?: (line: string) => void;
}

/**
 * POSTs each alert change as JSON, one at a time and in order, retrying with exponential backoff.
 * `send` only queues: sampling never waits on the network.
 */
export class AlertWebhook {
  private readonly queue: AlertPayload[] = [];
  private running = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly options: Required<WebhookOptions>;

  constructor(
    private readonly url: URL,
    options: WebhookOptions = {},
  ) {
    this.options = {
      attempts: 6,
      retryDelayMs: 1000,
      timeoutMs: 5000,
      maxQueue: 1000,
      log: (line) => process.stderr.write(`pulseboard: ${line}\n`),
      ...options,
    };
  }

  get pending(): number {
    return this.queue.length;
  }

  send(change: AlertPayload): void {
    if (this.closed) return;
    this.queue.push(change);
    if (this.queue.length > this.options.maxQueue) {
      const dropped = this.queue.shift() as AlertPayload;
      this.options.log(`alert webhook: queue full, dropped the ${dropped.state} change of ${dropped.rule}`);
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
      const change = this.queue[0] as AlertPayload;
      const delivered = await this.deliver(change);
      if (this.queue[0] === change) this.queue.shift();
      if (!delivered && !this.closed) {
        this.options.log(`alert webhook: gave up on the ${change.state} change of ${change.rule} after ${this.options.attempts} tries`);
      }
    }
    this.running = false;
  }

  private async deliver(change: AlertPayload): Promise<boolean> {
    const body = JSON.stringify(change);
    for (let attempt = 1; attempt <= this.options.attempts && !this.closed; attempt++) {
      try {
        const response = await fetch(this.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'User-Agent': 'pulseboard' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) return true;
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          this.options.log(`alert webhook: ${this.url.origin} refused the change with ${response.status}; not retrying`);
          return true;
        }
      } catch {
        // network error or timeout: retried below
      }
      if (attempt < this.options.attempts) await this.sleep(Math.min(60_000, this.options.retryDelayMs * 2 ** (attempt - 1)));
    }
    return false;
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
