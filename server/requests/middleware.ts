import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { type RequestStats, statusClassOf, UNMATCHED_ROUTE } from './stats.js';

export type RouterRoute = ReturnType<typeof matchedRoutes>[number];

/**
 * `METHOD pattern` per route, built once: a string built per request was hashed afresh by every Map lookup
 * of the statistics.
 */
const routeNames = new WeakMap<RouterRoute, string>();

/** `METHOD pattern` of the route that answered, or `unmatched` when only middleware ran (a 404). */
export function routeOfContext(c: Context): string {
  return routeNameOf(matchedRoutes(c)[c.req.routeIndex], c.req.method, c.res.status);
}

/** A route registered with `app.use` (method ALL, a handler that takes `next`): never the one that answered. */
export function isMiddlewareRoute(route: RouterRoute): boolean {
  return route.method === 'ALL' && route.handler.length >= 2;
}

/** `METHOD pattern` of `answered` for a request of `method` that got `status`, or `unmatched`. */
export function routeNameOf(answered: RouterRoute | undefined, method: string, status: number): string {
  if (answered === undefined || isMiddlewareRoute(answered) || (answered.path === '/*' && status === 404)) return UNMATCHED_ROUTE;
  if (method !== answered.method) return `${method} ${answered.path}`; // an ALL route, or HEAD on a GET one
  let name = routeNames.get(answered);
  if (name === undefined) {
    name = `${method} ${answered.path}`;
    routeNames.set(answered, name);
  }
  return name;
}

/** What @hono/node-server hands a Hono app as `env.outgoing`: the Node response. */
export interface NodeOutgoing {
  on(event: 'close', listener: () => void): unknown;
  readonly statusCode: number;
  readonly writableFinished: boolean;
  readonly socket?: { bytesWritten: number } | null;
  /** Present on HTTP/2 responses, whose socket is shared by many streams. */
  readonly stream?: unknown;
}

interface NodeEnv {
  outgoing?: NodeOutgoing;
  incoming?: { headers: Record<string, string | string[] | undefined> };
}

export function nodeOutgoing(env: unknown): NodeOutgoing | null {
  const outgoing = (env as NodeEnv | undefined)?.outgoing;
  return outgoing && typeof outgoing.on === 'function' ? outgoing : null;
}

/**
 * EventSource always asks for `text/event-stream`: such requests are streams, long by design, not measured.
 * On Node the header is read from the Node request: the Web request's headers would be built for it.
 */
export function wantsEventStream(env: unknown, request: Request): boolean {
  const incoming = (env as NodeEnv | undefined)?.incoming;
  const accept = incoming ? incoming.headers.accept : request.headers.get('accept');
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

/**
 * Records the request when its Node response closes: 'close' follows every response, once, after 'finish'
 * when it was sent, alone when the client left first (`aborted`). The status is the one really sent, and
 * the bytes those on the wire: the socket's counter moves only for this response on HTTP/1.1 (one at a
 * time; HTTP/2 streams share a socket, so no bytes there). `nameOf` runs then, off the response's path.
 */
export function recordOnClose(stats: RequestStats, outgoing: NodeOutgoing, started: number, nameOf: (status: number) => string): void {
  stats.requestStarted();
  const socket = outgoing.stream === undefined ? outgoing.socket : null;
  const bytesBefore = socket?.bytesWritten ?? 0;
  // `on`, not `once`: once's wrapper is a second closure per request for nothing.
  outgoing.on('close', () => {
    const sent = outgoing.writableFinished;
    const bytes = sent && socket ? socket.bytesWritten - bytesBefore : 0;
    const status = outgoing.statusCode;
    stats.requestEnded(nameOf(status), sent ? statusClassOf(status) : 'aborted', performance.now() - started, bytes);
  });
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
 * full one and cost its fast write path. (`measuredFetch` measures the same without a middleware, which
 * costs Hono its one-handler fast path.)
 */
export function requestMiddleware(stats: RequestStats, options: MiddlewareOptions = {}): MiddlewareHandler {
  const routeOf = options.routeOf ?? routeOfContext;
  const measureAfterNext = async (c: Context, next: () => Promise<void>, started: number) => {
    stats.requestStarted();
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
    if (wantsEventStream(c.env, c.req.raw)) return next();
    const started = performance.now();
    const outgoing = nodeOutgoing(c.env);
    if (outgoing) {
      recordOnClose(stats, outgoing, started, () => routeOf(c));
      return next();
    }
    return measureAfterNext(c, next, started);
  };
}
