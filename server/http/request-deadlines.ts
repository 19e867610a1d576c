import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface RequestTimeouts {
  /** From the connection (or the end of the previous response) to the end of a request's headers; 0: none. */
  headersMs: number;
  /** From the same start to the end of the request's body; 0: none. */
  requestMs: number;
}

/** What Node writes when its own check times a request out. */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

/**
 * The headers and request timeouts of one HTTP/1.1 connection, with one timer that is pending only while
 * the connection waits for a request's headers or body. Node's own check (`connectionsCheckingInterval`)
 * is one interval per server that wakes the process every second even with no connection open.
 *
 * A request's time counts from the connection, or on a kept-alive connection from the end of the previous
 * exchange (its response sent and its body in). Node counts from the request's first byte, which a socket
 * that Node's parser consumes does not show to JavaScript; that byte comes after the previous exchange, so
 * a deadline here is never later than Node's.
 */
export class RequestDeadlines {
  private timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires (performance.now() time). */
  private timerAt = 0;
  /** When the awaited request's time started counting; null while a request is being answered. */
  private waitingSince: number | null;
  /** A request whose body has not all arrived, and when it must have. */
  private body: IncomingMessage | null = null;
  private bodyDeadline = 0;
  /** Requests received and not yet answered (HTTP/1.1 pipelining can queue more than one). */
  private unanswered = 0;
  private response: ServerResponse | null = null;
  // Made when first needed: an event stream holds its connection's for as long as it is open.
  private onFinish: (() => void) | null = null;
  private onBodyEnd: (() => void) | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly timeouts: RequestTimeouts,
  ) {
    this.waitingSince = performance.now();
    this.arm();
  }

  /** Node emitted 'request': the request's headers are complete. */
  received(request: IncomingMessage, response: ServerResponse): void {
    const since = this.waitingSince ?? performance.now();
    this.waitingSince = null;
    this.unanswered++;
    this.response = response;
    this.onFinish ??= () => this.answered();
    // 'finish' comes once per response: no once() wrapper to hold.
    response.on('finish', this.onFinish);
    if (this.timeouts.requestMs > 0 && hasBody(request)) {
      this.body = request;
      this.bodyDeadline = since + this.timeouts.requestMs;
      this.onBodyEnd ??= () => this.bodyEnded();
      request.on('end', this.onBodyEnd);
    }
    this.arm();
  }

  /** The socket closed. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.body = null;
    this.response = null;
  }

  /** A response ended: once none is left and the last body is in, the next request's time starts. */
  private answered(): void {
    this.unanswered--;
    if (this.unanswered > 0 || this.socket.destroyed) return;
    this.response = null;
    if (this.body === null) this.awaitNextRequest();
  }

  /** A request's body is all in (read by the app, or by Node once the response ended). */
  private bodyEnded(): void {
    this.body = null;
    if (this.unanswered === 0 && !this.socket.destroyed) this.awaitNextRequest();
    else this.arm();
  }

  private awaitNextRequest(): void {
    this.waitingSince = performance.now();
    this.arm();
  }

  /** The earliest deadline now in force, or null for none. */
  private nextDeadline(): number | null {
    let next: number | null = null;
    if (this.body) next = this.bodyDeadline;
    if (this.waitingSince !== null) {
      const waitMs = earliestPositive(this.timeouts.headersMs, this.timeouts.requestMs);
      if (waitMs > 0) next = Math.min(next ?? Number.POSITIVE_INFINITY, this.waitingSince + waitMs);
    }
    return next;
  }

  /**
   * A pending timer that fires no later than the deadline is kept (when it fires, `check` looks again): on a
   * busy kept-alive connection each request would otherwise clear one timer and start another.
   */
  private arm(): void {
    const deadline = this.nextDeadline();
    if (deadline === null || (this.timer !== undefined && this.timerAt <= deadline)) return;
    clearTimeout(this.timer);
    const delay = Math.max(0, Math.ceil(deadline - performance.now()));
    this.timerAt = performance.now() + delay;
    this.timer = setTimeout(checkDeadlines, delay, this);
    this.timer.unref();
  }

  /** The timer fired: a deadline passed, or (after a change) it is for a later one. */
  check(): void {
    this.timer = undefined;
    const deadline = this.nextDeadline();
    if (deadline === null) return;
    if (performance.now() < deadline) this.arm();
    else this.expire();
  }

  /** As Node does: a 408 when no response has started on the connection, then the connection ends. */
  private expire(): void {
    if (this.socket.writable && !this.response?.headersSent) this.socket.write(REQUEST_TIMEOUT_RESPONSE);
    this.socket.destroy();
  }
}

function checkDeadlines(deadlines: RequestDeadlines): void {
  deadlines.check();
}

/** An HTTP/1.1 request has a body when it says how long it is (not 0) or that it is chunked. */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function earliestPositive(a: number, b: number): number {
  if (a > 0 && b > 0) return Math.min(a, b);
  return Math.max(a, b);
}
