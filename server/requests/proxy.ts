import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import { applyTimeouts, type ConnectionTimeouts } from '../lib/connection-timeouts.js';
import { formatDuration } from '../lib/duration.js';
import { downstreamResponseHeaders, originFormTarget, upstreamRequestHeaders } from './proxy-headers.js';
import { RouteCache } from './route-groups.js';
import type { RequestStats } from './stats.js';
import { statusClassOf } from './stats.js';
import { forwardUpgrade } from './upgrade.js';

/** What the proxy needs of the configuration. */
export interface ProxyOptions {
  /** The origin every request is forwarded to (`--proxy`). */
  target: URL;
  /** Longest the upstream may keep an exchange waiting (`--proxy-timeout`). */
  timeoutMs: number;
  /** The dashboard's own cookie: it never reaches the upstream. */
  privateCookie: string;
}

class UpstreamSilent extends Error {}

/** The path of a request target, without its query: what routes are grouped by. */
function pathnameOf(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/** EventSource always asks for `text/event-stream`: such requests are streams, long by design, not measured. */
function wantsEventStream(request: IncomingMessage): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

/**
 * The reverse proxy: a bare `node:http` request handler (no router, no Web Request or Response objects)
 * that forwards everything to the target over a keep-alive agent, piping the bodies both ways, and measures
 * each exchange from its arrival until its response is fully sent.
 *
 * An exchange never outlives its upstream: an upstream that fails or closes mid-response takes the client's
 * connection with it (the client sees the response cut short), and one that keeps the exchange waiting for
 * `timeoutMs` is cut too: before its response began with a 504, after it like a failure.
 */
export function createProxyHandler(
  options: ProxyOptions,
  stats: RequestStats,
): (request: IncomingMessage, response: ServerResponse) => void {
  const { target, timeoutMs, privateCookie } = options;
  // Keep-alive connections to the upstream, reused for request after request; the proxy's own timer decides
  // when an upstream is too slow (it knows when the client is the slow side), so undici's are off.
  const pool = new Pool(target.origin, { headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4_000 });
  const unreachable = JSON.stringify({ error: `upstream ${target.origin} is unreachable` });
  const silent = JSON.stringify({
    error: `upstream ${target.origin} did not answer within ${formatDuration(timeoutMs)} (--proxy-timeout)`,
  });
  const unforwardable = JSON.stringify({ error: `upstream ${target.origin} sent a response head that cannot be forwarded` });
  const routes = new RouteCache();

  const answer = (outgoing: ServerResponse, status: number, body: string) => {
    outgoing.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    outgoing.end(body);
  };

  return (incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    const path = originFormTarget(method, incoming.url ?? '');
    if (!wantsEventStream(incoming)) measure(incoming, outgoing, stats, () => routes.routeOf(method, pathnameOf(path ?? '/')));
    if (path === null) {
      answer(outgoing, 400, JSON.stringify({ error: 'the request target must be a path or an absolute URL' }));
      return;
    }
    let controller: Dispatcher.DispatchController | null = null;
    let silentUpstream = false;
    const hasBody = incoming.headers['transfer-encoding'] !== undefined || (incoming.headers['content-length'] ?? '0') !== '0';
    let uploaded = incoming.socket.bytesRead;
    // Restarted by every response chunk and each drain of the client's socket, and while the upload moves:
    // it expires only when nothing has moved for timeoutMs.
    const quiet = setTimeout(() => {
      // A client still sending its body (undici pauses the body when the upstream does not take more), or
      // not reading ours, is the slow side: not the upstream's silence. (No 'data' listener on the upload:
      // it would start the body flowing before undici reads it.)
      const uploading = hasBody && !incoming.complete;
      const uploadMoved = incoming.socket.bytesRead !== uploaded;
      uploaded = incoming.socket.bytesRead;
      const clientIsSlow = outgoing.writableNeedDrain || (uploading && (uploadMoved || !incoming.isPaused()));
      if (clientIsSlow) quiet.refresh();
      else {
        silentUpstream = true;
        controller?.abort(new UpstreamSilent());
      }
    }, timeoutMs);
    const moved = () => quiet.refresh();
    outgoing.on('drain', moved);
    outgoing.on('close', () => {
      clearTimeout(quiet);
      if (!outgoing.writableFinished) controller?.abort(new Error('the client left'));
    });

    pool.dispatch(
      {
        origin: target.origin,
        path,
        method: method as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders({
          headers: incoming.headers,
          remoteAddress: incoming.socket.remoteAddress ?? '',
          privateCookie,
        }) as Record<string, string | string[]>,
        body: hasBody ? incoming : null,
      },
      {
        onRequestStart(started) {
          controller = started;
        },
        onResponseStart(started, statusCode, headers) {
          try {
            outgoing.writeHead(statusCode, downstreamResponseHeaders(headers, privateCookie));
          } catch {
            clearTimeout(quiet);
            started.abort(new Error('unforwardable head'));
            answer(outgoing, 502, unforwardable);
          }
        },
        onResponseData(started, chunk) {
          quiet.refresh();
          if (!outgoing.write(chunk)) {
            started.pause();
            outgoing.once('drain', () => started.resume());
          }
        },
        onResponseEnd() {
          clearTimeout(quiet);
          outgoing.end();
        },
        onResponseError(_controller, error) {
          clearTimeout(quiet);
          if (outgoing.headersSent) {
            // An upstream gone mid-response takes the client's connection with it.
            outgoing.destroy();
            return;
          }
          if (outgoing.destroyed) return;
          const timedOut = silentUpstream || error instanceof UpstreamSilent;
          answer(outgoing, timedOut ? 504 : 502, timedOut ? silent : unreachable);
        },
      },
    );
  };
}

/**
 * Counts the exchange when its response closes: after it was sent whole (its status class), or when the
 * connection went first (`aborted`). Bytes are those written to the socket for it, headers included
 * (HTTP/1.1 sends one response at a time per connection).
 */
function measure(incoming: IncomingMessage, outgoing: ServerResponse, stats: RequestStats, routeOf: () => string): void {
  const started = performance.now();
  stats.requestStarted();
  const socket = incoming.socket;
  const bytesBefore = socket.bytesWritten;
  outgoing.on('close', () => {
    const sent = outgoing.writableFinished;
    const bytes = sent ? socket.bytesWritten - bytesBefore : 0;
    stats.requestEnded(routeOf(), sent ? statusClassOf(outgoing.statusCode) : 'aborted', performance.now() - started, bytes);
  });
}

export function startProxyServer(
  options: ProxyOptions,
  stats: RequestStats,
  host: string,
  port: number,
  timeouts: ConnectionTimeouts,
): Promise<Server> {
  const server = createServer(createProxyHandler(options, stats));
  applyTimeouts(server, timeouts);
  server.on('upgrade', forwardUpgrade(options, stats));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
