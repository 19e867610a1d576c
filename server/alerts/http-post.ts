import { firstLine, oneLine } from '../lib/errors.js';
import type { Attempt } from './delivery-queue.js';

export interface PostRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/**
 * One POST, its answer sorted into an `Attempt`. A redirect is not followed: a 307 would POST the alert
 * to wherever the receiver points. A 4xx other than 429 is not retried. Log text names only the origin:
 * some services (Telegram, Slack, Discord) carry the secret in the path.
 */
export async function postOnce(request: PostRequest, timeoutMs: number, what: string, setting: string): Promise<Attempt> {
  const origin = request.url.origin;
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (response.ok) return { outcome: 'delivered' };
    if (response.status >= 300 && response.status < 400) {
      const location = printable(response.headers.get('location') ?? '(none)');
      return {
        outcome: 'dropped',
        reason: `${origin} answered ${response.status} (to ${location}); redirects are not followed, so the ${what} is dropped: point ${setting} at the final URL`,
      };
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      return { outcome: 'dropped', reason: `${origin} refused the change with ${response.status}; not retrying` };
    }
    return { outcome: 'retry', reason: `answered ${response.status}` };
  } catch (error) {
    return { outcome: 'retry', reason: reasonOf(error, timeoutMs) };
  }
}

/** fetch says only "fetch failed": the reason (refused, reset, DNS, TLS) is its cause. */
function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  return printable(firstLine(cause ?? error));
}

/** Text from the network, fit for one log line: 200 characters at most, control characters escaped. */
function printable(text: string): string {
  return oneLine(text.slice(0, 200));
}
