import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { type RequestStats, statusClassOf, UNMATCHED_ROUTE } from './stats.js';

type RouterRoute = ReturnType<typeof matchedRoutes>[number];

/**
 * `METHOD pattern` per route, built once: a string built per request was hashed afresh by every Map lookup
 * of the statistics.
 */
const routeNames = new WeakMap<RouterRoute, string>();

/** `METHOD pattern` of the route that answered, or `unmatched` when only middleware ran (a 404). */
export function routeOfContext(c: Context): string {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  const isHandler = answered !== undefined && !(answered.method === 'ALL' && answered.handler.length >= 2);
  if (!isHandler || (answered.path === '/*' && c.res.status === 404)) return UNMATCHED_ROUTE;
  const method = c.req.method;
  if (method !== answered.method) return `${method} ${answered.path}`; // an ALL route, or HEAD on a GET one
  let name = routeNames.get(answered);
  if (name === undefined) {
    name = `${method} ${answered.path}`;
    routeNames.set(answered, name);
  }
  return name;
}

interface NodeOutgoing {
  on(event: 'close', listener: () => void): unknown;
  readonly statusCode: number;
  readonly writableFinished: boolean;
  readonly socket?: { bytesWritten: number } | null;
  /** Present on HTTP/2 responses, whose socket is shared by many streams. */
  readonly stream?: unknown;
}

function nodeOutgoing(c: Context): NodeOutgoing | null {
  const outgoing = (c.env as { outgoing?: NodeOutgoing } | undefined)?.outgoing;
  return outgoing && typeof outgoing.on === 'function' ? outgoing : null;
}

/**
 * EventSource always asks for `text/event-stream`: such requests are streams, long by design, not measured.
 * On Node the header is read from the Node request: `c.req.header()` would build a Web Headers object.
 */
function wantsEventStream(c: Context): boolean {
  const incoming = (c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } } | undefined)?.incoming;
  const accept = incoming ? incoming.headers.accept : c.req.header('accept');
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

export interface MiddlewareOptions {
  /** How a request is named in the route table; default: the matched route pattern. */
  routeOf?: (c: Context) => string;
}

/**
 * Hono middleware that measures each request from arrival until its response is fully sent (or the
 * client goes away: `aborted`). Event streams are left out: they are long by design.
 *
 * On Node it listens for the response's `close` from the start and reads the status the response really
 * sent; it never reads `c.res.headers`, which would turn @hono/node-server's lightweight response into a
 * full one and cost its fast write path.
 */
export function requestMiddleware(stats: RequestStats, options: MiddlewareOptions = {}): MiddlewareHandler {
  const routeOf = options.routeOf ?? routeOfContext;
  const measureAfterNext = async (c: Context, next: () => Promise<void>, started: number) => {
    try {
      await next();
    } catch (error) {
      stats.requestEnded(routeOf(c), '5xx', performance.now() - started, 0);
      throw error;
    }
    stats.requestEnded(
      routeOf(c),
      statusClassOf(c.res.status),
      performance.now() - started,
      Number(c.res.headers.get('content-length')) || 0,
    );
  };
  // Not an async function: on Node it hands back next()'s own promise (an async wrapper cost another promise
  // and its microtask turns per request).
  return (c, next) => {
    if (wantsEventStream(c)) return next();
    const started = performance.now();
    stats.requestStarted();
    const outgoing = nodeOutgoing(c);
    if (outgoing) {
      // Bytes on the wire: the socket's counter moves only for this response on HTTP/1.1 (one at a time).
      const socket = outgoing.stream === undefined ? outgoing.socket : null;
      const bytesBefore = socket?.bytesWritten ?? 0;
      // 'close' follows every response, once: after 'finish' when it was sent, alone when the client left
      // first. (`on`, not `once`: once's wrapper is a second closure per request for nothing.)
      outgoing.on('close', () => {
        const sent = outgoing.writableFinished;
        const bytes = sent && socket ? socket.bytesWritten - bytesBefore : 0;
        stats.requestEnded(routeOf(c), sent ? statusClassOf(outgoing.statusCode) : 'aborted', performance.now() - started, bytes);
      });
      return next();
    }
    return measureAfterNext(c, next, started);
  };
}
