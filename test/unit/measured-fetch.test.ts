import { request } from 'node:http';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { measuredFetch } from '../../server/requests/measured-fetch.js';
import { requestMiddleware } from '../../server/requests/middleware.js';
import { RequestStats, UNMATCHED_ROUTE } from '../../server/requests/stats.js';
import { listen } from '../helpers/traffic.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The routes of request-middleware.test.ts's app, with nothing measuring inside it. */
function plainApp(): Hono {
  const app = new Hono();
  app.use('/admin/*', async (_c, next) => next());
  app.use('/private/*', async (c, _next) => c.text('no', 401));
  app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
  app.all('/any', (c) => c.text('any'));
  app.get('/bytes', (c) => c.body('x'.repeat(1234), 200, { 'Content-Length': '1234' }));
  app.get('/files/*', (c) => (c.req.path.endsWith('.txt') ? c.text('file') : c.json({ error: 'nope' }, 404)));
  app.get('/slow', async (c) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return c.text('late');
  });
  app.get('/*', (c) => c.json({ error: 'not found' }, 404));
  return app;
}

const routesOf = (stats: RequestStats) => Object.fromEntries(stats.sample(Date.now()).routes.map((r) => [r.route, r.count]));

async function settled(stats: RequestStats): Promise<void> {
  // The response's close is heard a moment after the client has the body.
  for (let i = 0; i < 200 && stats.requestsInFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function served(fetcher: Hono['fetch']): Promise<string> {
  const { server, url } = await listen(fetcher);
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  cleanups.push(() => server.closeAllConnections());
  return url;
}

const PATHS: [string, string][] = [
  ['GET', '/users/1'],
  ['GET', '/users/2'],
  ['POST', '/any'],
  ['HEAD', '/users/3'],
  ['GET', '/admin/nothing-here'],
  ['GET', '/missing'],
  ['GET', '/files/a.txt'],
  ['GET', '/files/b.bin'],
  ['GET', '/bytes'],
];

describe('measuredFetch: the app measured from outside, on a Node server', () => {
  it('names, counts and sizes every request as the middleware does for the same app', async () => {
    const outside = new RequestStats({ source: 'embedded' });
    const inside = new RequestStats({ source: 'embedded' });
    const withMiddleware = new Hono();
    withMiddleware.use('*', requestMiddleware(inside));
    withMiddleware.route('/', plainApp());
    const urls = [await served(measuredFetch(plainApp(), outside)), await served(withMiddleware.fetch)];
    outside.sample(0);
    inside.sample(0);
    for (const url of urls) for (const [method, path] of PATHS) await fetch(`${url}${path}`, { method }).then((r) => r.arrayBuffer());
    await settled(outside);
    await settled(inside);
    const [a, b] = [outside.sample(1000), inside.sample(1000)];
    expect(a.routes.map((r) => [r.route, r.count, r.errors])).toEqual(b.routes.map((r) => [r.route, r.count, r.errors]));
    expect(a.status).toEqual(b.status);
    expect(a.bytes).toBe(b.bytes);
    expect(Object.fromEntries(a.routes.map((r) => [r.route, r.count]))).toEqual({
      'GET /users/:id': 2,
      'HEAD /users/:id': 1,
      'POST /any': 1,
      'GET /files/*': 2,
      'GET /bytes': 1,
      [UNMATCHED_ROUTE]: 2,
    });
    expect(a.bytes).toBeGreaterThan(1234);
  });

  it('names a request a middleware answered for the route it asked for (the middleware cannot tell it from a miss)', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const url = await served(measuredFetch(plainApp(), stats));
    expect((await fetch(`${url}/private/x`)).status).toBe(401);
    await settled(stats);
    expect(routesOf(stats)).toEqual({ 'GET /*': 1 });
  });

  it('leaves event streams out, and counts a client that left before the answer as aborted', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const url = await served(measuredFetch(plainApp(), stats));
    stats.sample(0);
    await fetch(`${url}/users/1`, { headers: { Accept: 'text/event-stream' } }).then((r) => r.text());
    await new Promise<void>((resolve) => {
      const req = request(`${url}/slow`);
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await settled(stats);
    const sample = stats.sample(1000);
    expect(sample.count).toBe(1);
    expect(sample.status.aborted).toBe(1);
    expect(sample.routes[0]).toMatchObject({ route: 'GET /slow', count: 1 });
  });
});

describe('measuredFetch without a Node response (another runtime, or app.request)', () => {
  it('takes the status and Content-Length from the Response', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const fetcher = measuredFetch(plainApp(), stats);
    stats.sample(0);
    await fetcher(new Request('http://localhost/bytes'));
    await fetcher(new Request('http://localhost/missing'));
    const sample = stats.sample(1000);
    expect(sample.status).toMatchObject({ '2xx': 1, '4xx': 1 });
    expect(sample.bytes).toBe(1234);
    expect(Object.fromEntries(sample.routes.map((r) => [r.route, r.count]))).toEqual({ 'GET /bytes': 1, [UNMATCHED_ROUTE]: 1 });
  });
});
