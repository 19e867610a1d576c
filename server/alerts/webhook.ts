import type { AlertPayload } from '../protocol.js';
import { DeliveryQueue, type DeliveryQueueOptions } from './delivery-queue.js';
import { postOnce } from './http-post.js';

export interface WebhookOptions extends DeliveryQueueOptions {
  timeoutMs?: number;
  /** Starts each log line. */
  label?: string;
  /** The setting a redirect's log line tells the operator to fix. */
  setting?: string;
  /** More text never to log, beside the URL's password (a channel's URL from `url_env`). */
  secrets?: string[];
}

/**
 * POSTs each alert change as JSON, one at a time and in order, retrying with exponential backoff.
 * `send` only queues: sampling never waits on the network.
 */
export class AlertWebhook {
  private readonly queue: DeliveryQueue<AlertPayload>;
  /** The URL without `user:pass@`: fetch refuses a URL that holds credentials. */
  private readonly url: URL;
  private readonly headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'pulseboard' };

  constructor(url: URL, options: WebhookOptions = {}) {
    this.url = new URL(url);
    const authorization = basicAuthorization(this.url);
    if (authorization) this.headers.Authorization = authorization;
    const secrets = [this.url.password, decodeOrKeep(this.url.password), ...(options.secrets ?? [])];
    this.url.username = '';
    this.url.password = '';
    const { timeoutMs = 5000, label = 'alert webhook', setting = '--alert-webhook', secrets: _secrets, ...queueOptions } = options;
    const describe = (change: AlertPayload) => `${change.state} change of ${change.rule}`;
    this.queue = new DeliveryQueue(
      label,
      `POST to ${this.url.origin}`,
      (change) => postOnce({ url: this.url, headers: this.headers, body: JSON.stringify(change) }, timeoutMs, describe(change), setting),
      describe,
      queueOptions,
      secrets,
    );
  }

  get pending(): number {
    return this.queue.pending;
  }

  health() {
    return this.queue.health();
  }

  /** Queues `change`, posted as it is (a channel adds fields to the `alert` payload). */
  send(change: AlertPayload): void {
    this.queue.send(change);
  }

  close(): void {
    this.queue.close();
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
