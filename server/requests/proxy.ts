import type { Server } from 'node:http';
import { createServer, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import { applyTimeouts, type ConnectionTimeouts } from '../lib/connection-timeouts.js';
import { formatDuration } from '../lib/duration.js';
import { requestMiddleware } from './middleware.js';
import { downstreamResponseHeaders, originFormTarget, upstreamRequestHeaders } from './proxy-headers.js';
import { routeOfProxiedPath } from './route-groups.js';
import type { RequestStats } from './stats.js';

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

/**
 * The reverse proxy as a Hono app on Node: forwards everything to the target and measures it. The bytes
 * are piped between the sockets with node:http (a keep-alive agent, no Web Streams in between).
 *
 * An exchange never outlives its upstream: an upstream that fails or closes mid-response takes the client's
 * connection with it (the client sees the response cut short), and one that keeps the exchange waiting for
 * `timeoutMs` is cut too: before its response began with a 504, after it like a failure.
 */
export function createProxyApp(options: ProxyOptions, stats: RequestStats): Hono {
  const { target, timeoutMs, privateCookie } = options;
  const app = new Hono();
  const agent = target.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const unreachable = { error: `upstream ${target.origin} is unreachable` };
  const silent = { error: `upstream ${target.origin} did not answer within ${formatDuration(timeoutMs)} (--proxy-timeout)` };
  app.use('*', requestMiddleware(stats, { routeOf: (c: Context) => routeOfProxiedPath(methodOf(c), c.req.path) }));
  app.all('*', (c) => {
    const { incoming, outgoing } = (c.env ?? {}) as Partial<HttpBindings>;
    if (!incoming || !outgoing) return c.json({ error: "the proxy runs on Node's http server only" }, 500);
    const path = originFormTarget(incoming.method ?? 'GET', incoming.url ?? '');
    if (path === null) return c.json({ error: 'the request target must be a path or an absolute URL' }, 400);
    return new Promise<Response>((resolve) => {
      const upstream = send({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: incoming.method,
        path,
        headers: upstreamRequestHeaders({ headers: incoming.headers, remoteAddress: incoming.socket.remoteAddress ?? '', privateCookie }),
        agent,
      });
      // Restarted by every chunk either way: it expires only when nothing has moved for timeoutMs.
      const quiet = setTimeout(() => {
        // A client still sending its body, or not reading ours, is the slow side: not the upstream's silence.
        const clientIsSlow = outgoing.writableNeedDrain || (!incoming.complete && !upstream.writableNeedDrain);
        if (clientIsSlow) quiet.refresh();
        else upstream.destroy(new UpstreamSilent());
      }, timeoutMs);
      const moved = () => quiet.refresh();
      incoming.on('data', moved);
      outgoing.on('drain', moved);

      upstream.on('response', (response) => {
        try {
          outgoing.writeHead(response.statusCode ?? 502, downstreamResponseHeaders(response.headers, privateCookie));
        } catch {
          clearTimeout(quiet);
          response.destroy();
          resolve(c.json({ error: `upstream ${target.origin} sent a response head that cannot be forwarded` }, 502));
          return;
        }
        resolve(RESPONSE_ALREADY_SENT);
        response.on('data', moved);
        // pipe, not pipeline: the same bytes for half the CPU per request (bench: pipeline cost ~80 µs each).
        response.pipe(outgoing);
        response.on('close', () => {
          clearTimeout(quiet);
          // pipe passes no failure on: an upstream gone mid-response takes the client's connection with it.
          if (!response.complete) outgoing.destroy();
        });
      });
      upstream.on('error', (error) => {
        clearTimeout(quiet);
        if (outgoing.headersSent) outgoing.destroy();
        else resolve(error instanceof UpstreamSilent ? c.json(silent, 504) : c.json(unreachable, 502));
      });
      outgoing.on('close', () => {
        clearTimeout(quiet);
        upstream.destroy();
      });
      incoming.pipe(upstream);
    });
  });
  return app;
}

/** The method the client sent: Hono routes a HEAD as a GET (see `proxyFetch`), the Node request keeps it. */
function methodOf(c: Context): string {
  return (c.env as Partial<HttpBindings> | undefined)?.incoming?.method ?? c.req.method;
}

type FetchCallback = Parameters<typeof getRequestListener>[0];

/**
 * Hono answers a HEAD by running the GET route and wrapping its answer in a new body-less Response. The
 * proxy has already written the upstream's head to the socket by then, and the wrapper hides that (Node then
 * writes the head twice and logs a stack trace per request). So a HEAD reaches Hono as a GET and its Response
 * is passed through; the upstream still gets HEAD, since the handler forwards the Node request's own method.
 */
export function proxyFetch(app: Hono): FetchCallback {
  return (request, env) => {
    if (request.method !== 'HEAD') return app.fetch(request, env);
    return app.fetch(new Request(request.url, { method: 'GET', headers: request.headers }), env);
  };
}

/** Refuses WebSocket upgrades clearly instead of hanging: they are not proxied. */
function refuseUpgrade(_request: unknown, socket: Duplex): void {
  socket.end(
    'HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\npulseboard proxy does not forward WebSocket upgrades\n',
  );
}

export function startProxyServer(
  options: ProxyOptions,
  stats: RequestStats,
  host: string,
  port: number,
  timeouts: ConnectionTimeouts,
): Promise<Server> {
  const server = createServer(getRequestListener(proxyFetch(createProxyApp(options, stats))));
  applyTimeouts(server, timeouts);
  server.on('upgrade', refuseUpgrade);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
