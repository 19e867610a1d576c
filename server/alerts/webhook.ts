import { firstLine, oneLine } from '../lib/errors.js';
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
  /** The URL without `user:pass@`: fetch refuses a URL that holds credentials. */
  private readonly url: URL;
  private readonly headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'pulseboard' };

  constructor(url: URL, options: WebhookOptions = {}) {
    this.url = new URL(url);
    const authorization = basicAuthorization(this.url);
    if (authorization) this.headers.Authorization = authorization;
    this.url.username = '';
    this.url.password = '';
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
    const { attempts } = this.options;
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      let failure: string;
      try {
        // A redirect is not followed: a 307 would POST the alert to wherever the receiver points.
        const response = await fetch(this.url, {
          method: 'POST',
          headers: this.headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) return true;
        if (response.status >= 300 && response.status < 400) {
          const location = printable(response.headers.get('location') ?? '(none)');
          this.options.log(
            `alert webhook: ${this.url.origin} answered ${response.status} (to ${location}); redirects are not followed, so the ${change.state} change of ${change.rule} is dropped: point --alert-webhook at the final URL`,
          );
          return true;
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          this.options.log(`alert webhook: ${this.url.origin} refused the change with ${response.status}; not retrying`);
          return true;
        }
        failure = `answered ${response.status}`;
      } catch (error) {
        failure = this.reasonOf(error);
      }
      this.options.log(`alert webhook: POST to ${this.url.origin} failed (try ${attempt} of ${attempts}): ${failure}`);
      if (attempt < attempts) await this.sleep(Math.min(60_000, this.options.retryDelayMs * 2 ** (attempt - 1)));
    }
    return false;
  }

  /** fetch says only "fetch failed": the reason (refused, reset, DNS, TLS) is its cause. */
  private reasonOf(error: unknown): string {
    if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${this.options.timeoutMs} ms`;
    const cause = error instanceof Error ? error.cause : undefined;
    return printable(firstLine(cause ?? error));
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

/** `user:pass@` of a URL as a Basic Authorization header, or null when it has none. */
function basicAuthorization(url: URL): string | null {
  if (url.username === '' && url.password === '') return null;
  const credentials = `${decodeOrKeep(url.username)}:${decodeOrKeep(url.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** The URL keeps credentials percent-encoded; a malformed escape is sent as written. */
function decodeOrKeep(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Text from the network, fit for one log line: 200 characters at most, control characters escaped. */
function printable(text: string): string {
  return oneLine(text.slice(0, 200));
}
