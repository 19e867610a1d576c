import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { proxy } from 'hono/proxy';
import { type RequestStats, requestMiddleware } from './requests.js';

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

/** The reverse proxy as a Hono app: forwards everything to `target` and measures it. */
export function createProxyApp(target: URL, stats: RequestStats): Hono {
  const app = new Hono();
  app.use('*', requestMiddleware(stats, { routeOf: (c: Context) => routeOfProxiedPath(c.req.method, new URL(c.req.url).pathname) }));
  app.all('*', async (c) => {
    const incoming = new URL(c.req.url);
    const upstream = new URL(incoming.pathname + incoming.search, target);
    try {
      return await proxy(upstream, {
        raw: c.req.raw,
        headers: {
          ...c.req.header(),
          'X-Forwarded-For': forwardedFor(c),
          'X-Forwarded-Host': c.req.header('host'),
          'X-Forwarded-Proto': incoming.protocol.replace(':', ''),
        },
      });
    } catch {
      return c.json({ error: `upstream ${target.origin} is unreachable` }, 502);
    }
  });
  return app;
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
