import type { Hono } from 'hono';
import { isMiddlewareRoute, nodeOutgoing, type RouterRoute, recordOnClose, routeNameOf, wantsEventStream } from './middleware.js';
import { type RequestStats, statusClassOf } from './stats.js';

type Fetch = Hono['fetch'];

/**
 * The route a Hono app answers a request with, found again by its router: the first matched route that is
 * not a middleware (the one Hono's own chain stops at, unless a middleware answers first, e.g. a 401: that
 * request is then named for the route it asked for).
 */
function answeringRoute(app: Hono, request: Request, env: unknown): RouterRoute | undefined {
  const method = request.method === 'HEAD' ? 'GET' : request.method; // Hono answers HEAD with the GET route
  const matched = app.router.match(method, app.getPath(request, { env }))[0];
  for (let i = 0; i < matched.length; i++) {
    const route = (matched[i] as (typeof matched)[number])[0][1];
    if (!isMiddlewareRoute(route)) return route;
  }
  return undefined;
}

/**
 * `app.fetch` measured: each request from arrival until its response is fully sent, as `requestMiddleware`
 * does, but from outside the app. A Hono middleware, even one that only calls `next()`, takes Hono off its
 * one-handler fast path onto its compose chain (a promise chain per request: ~15 % of a one-line handler's
 * throughput here); measured from outside, the app keeps it, and the route is found by a second router match
 * when the response has closed. Event streams are left out.
 */
export function measuredFetch(app: Hono, stats: RequestStats): Fetch {
  const fetch = app.fetch;
  const measureAfterResponse = async (request: Request, env: unknown, executionCtx: Parameters<Fetch>[2], started: number) => {
    stats.requestStarted();
    const response = await fetch(request, env, executionCtx);
    stats.requestEnded(
      routeNameOf(answeringRoute(app, request, env), request.method, response.status),
      statusClassOf(response.status),
      performance.now() - started,
      Number(response.headers.get('content-length')) || 0,
    );
    return response;
  };
  return (request, env, executionCtx) => {
    if (wantsEventStream(env, request)) return fetch(request, env, executionCtx);
    const started = performance.now();
    const outgoing = nodeOutgoing(env);
    if (outgoing === null) return measureAfterResponse(request, env, executionCtx, started);
    recordOnClose(stats, outgoing, started, (status) => routeNameOf(answeringRoute(app, request, env), request.method, status));
    return fetch(request, env, executionCtx);
  };
}
