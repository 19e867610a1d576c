import type { IncomingHttpHeaders, OutgoingHttpHeaders, Server } from 'node:http';
import { createServer, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import { proxy } from 'hono/proxy';
import { requestMiddleware } from './middleware.js';
import type { RequestStats } from './stats.js';

const ID_LIKE = /^(\d+|[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9_-]{24,})$/i;
const MAX_SEGMENTS = 3;

/**
 * Behind a proxy there are no route patterns, so paths are grouped: id-like segments become `:id` and
 * paths deeper than three segments end in `/*`. The query string is never part of the name.
 */
export function routeOfProxiedPath(method: string, pathname: string): string {
  const segments = pathname.split('/').filter((segment) => segment !== '');
  const shown = segments.slice(0, MAX_SEGMENTS).map((segment) => (ID_LIKE.test(segment) ? ':id' : segment.slice(0, 40)));
  const tail = segments.length > MAX_SEGMENTS ? '/*' : '';
  return `${method} /${shown.join('/')}${tail}`;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) result[name] = value;
  return result;
}

/**
 * The reverse proxy as a Hono app: forwards everything to `target` and measures it. On Node the bytes are
 * piped between the sockets with node:http (a keep-alive agent, no Web Streams in between); elsewhere
 * Hono's fetch-based proxy helper does the job.
 */
export function createProxyApp(target: URL, stats: RequestStats): Hono {
  const app = new Hono();
  const agent = target.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const unreachable = { error: `upstream ${target.origin} is unreachable` };
  app.use('*', requestMiddleware(stats, { routeOf: (c: Context) => routeOfProxiedPath(c.req.method, c.req.path) }));
  app.all('*', (c) => {
    const { incoming, outgoing } = (c.env ?? {}) as Partial<HttpBindings>;
    if (!incoming || !outgoing) return fetchProxy(c, target).catch(() => c.json(unreachable, 502));
    return new Promise<Response>((resolve) => {
      const headers = endToEndHeaders(incoming.headers);
      headers['x-forwarded-for'] = forwardedFor(c);
      headers['x-forwarded-host'] = incoming.headers.host;
      headers['x-forwarded-proto'] = 'http';
      delete headers.host;
      const upstream = send(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers,
          agent,
        },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, endToEndHeaders(response.headers));
          response.pipe(outgoing);
          resolve(RESPONSE_ALREADY_SENT);
        },
      );
      upstream.on('error', () => {
        if (!outgoing.headersSent) resolve(c.json(unreachable, 502));
        else outgoing.destroy();
      });
      outgoing.on('close', () => upstream.destroy());
      incoming.pipe(upstream);
    });
  });
  return app;
}

async function fetchProxy(c: Context, target: URL): Promise<Response> {
  const incoming = new URL(c.req.url);
  return proxy(new URL(incoming.pathname + incoming.search, target), {
    raw: c.req.raw,
    headers: { ...c.req.header(), 'X-Forwarded-For': forwardedFor(c), 'X-Forwarded-Host': c.req.header('host') },
  });
}

function forwardedFor(c: Context): string {
  const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? '';
  const previous = c.req.header('x-forwarded-for');
  return previous ? `${previous}, ${remote}` : remote;
}

/** Refuses WebSocket upgrades clearly instead of hanging: they are not proxied. */
function refuseUpgrade(_request: unknown, socket: Duplex): void {
  socket.end(
    'HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\npulseboard proxy does not forward WebSocket upgrades\n',
  );
}

export function startProxyServer(target: URL, stats: RequestStats, host: string, port: number): Promise<Server> {
  const server = createServer(getRequestListener(createProxyApp(target, stats).fetch));
  server.on('upgrade', refuseUpgrade);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
