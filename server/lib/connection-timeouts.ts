import type { Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';

/** The same on every listener: plain HTTP/1.1, HTTP/1.1 over TLS, and HTTP/2 sessions. */
export interface ConnectionTimeouts {
  /** From the connection (or the end of the previous request) to the end of the request's headers. */
  headersMs: number;
  /**
   * From the start of a request to the end of its body (bodies are at most 16 KiB). A request without a
   * body, an event stream's included, is complete with its headers: the time its response takes is free.
   */
  requestMs: number;
  /** An HTTP/1.1 connection waiting for its next request. */
  keepAliveMs: number;
  /** A connection or HTTP/2 session with no byte in either direction; streams send a heartbeat, so they never are. */
  idleMs: number;
  /** How often the proxy's listener looks for connections past their timeouts (the dashboard's has one timer per connection). */
  checkEveryMs: number;
}

/** Idle connections and sessions are closed after 2 heartbeats, and never sooner than this. */
const MIN_IDLE_MS = 60_000;

export function connectionTimeouts(heartbeatMs: number, overrides: Partial<ConnectionTimeouts> = {}): ConnectionTimeouts {
  return {
    headersMs: 10_000,
    requestMs: 30_000,
    keepAliveMs: 5_000,
    idleMs: Math.max(MIN_IDLE_MS, 2 * heartbeatMs),
    checkEveryMs: 1_000,
    ...overrides,
  };
}

/** The longest delay a Node timer takes (about 24.8 days); a longer one fires after 1 ms. */
const NEVER_MS = 2_147_483_647;

/**
 * Node reads these properties on every HTTP/1.1 connection, plain or over TLS (`allowHTTP1`), and takes
 * `timeout` as the idle timeout of each HTTP/2 session too; with no 'timeout' listener it destroys the
 * connection. Node's own headers and request timeouts are turned off: its check is an interval per server
 * that wakes the process every `connectionsCheckingInterval` whether or not a connection is open, so the
 * listener enforces them itself with a timer per connection (`http/request-deadlines.ts`). Set before
 * listen(): the interval is started when the server starts listening.
 */
export function applyTimeouts(server: Server | Http2SecureServer, timeouts: ConnectionTimeouts): void {
  const http1 = server as Server;
  http1.headersTimeout = 0;
  http1.requestTimeout = 0;
  http1.keepAliveTimeout = timeouts.keepAliveMs;
  (http1 as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = NEVER_MS;
  server.setTimeout(timeouts.idleMs);
}

/**
 * The proxy's listener: headers and keep-alive as on the dashboard's, but no bound on a whole request, since
 * an upload to the proxied app may be large and slow; a stalled one (no byte either way) is cut by the idle
 * timeout instead, which never undercuts the upstream's own `--proxy-timeout` (nginx's client_body_timeout
 * and send_timeout are 60 s too).
 */
export function proxyConnectionTimeouts(upstreamTimeoutMs: number, overrides: Partial<ConnectionTimeouts> = {}): ConnectionTimeouts {
  return { ...connectionTimeouts(0), requestMs: 0, idleMs: Math.max(MIN_IDLE_MS, upstreamTimeoutMs), ...overrides };
}
