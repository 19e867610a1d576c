import { Agent, get } from 'node:http';
import { connect, createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { requestMiddleware, routeOfContext } from '../../server/requests/middleware.js';
import { RequestStats, UNMATCHED_ROUTE } from '../../server/requests/stats.js';
import { listen } from '../helpers/traffic.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An app measured by the middleware, with a middleware of its own, an ALL route and a catch-all. */
function measuredApp(stats: RequestStats): Hono {
  const app = new Hono();
  app.use('*', requestMiddleware(stats));
  app.use('/admin/*', async (_c, next) => next()); // middleware: never the route that answered
  app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
  app.all('/any', (c) => c.text('any'));
  app.get('/bytes', (c) => c.body('x'.repeat(1234), 200, { 'Content-Length': '1234' }));
  app.get('/files/*', (c) => (c.req.path.endsWith('.txt') ? c.text('file') : c.json({ error: 'nope' }, 404)));
  app.get('/*', (c) => c.json({ error: 'not found' }, 404));
  app.get('/boom', () => {
    throw new Error('boom');
  });
  return app;
}

const routesOf = (stats: RequestStats) => Object.fromEntries(stats.sample(Date.now()).routes.map((r) => [r.route, r.count]));

describe('request middleware, through Hono alone (no Node response)', () => {
  it('names each request by the pattern of the route that answered, or unmatched', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const app = measuredApp(stats);
    await app.request('/users/1');
    await app.request('/users/2');
    await app.request('/any', { method: 'POST' });
    await app.request('/admin/nothing-here');
    await app.request('/missing');
    await app.request('/files/a.txt');
    await app.request('/files/b.bin');
    expect(routesOf(stats)).toEqual({
      'GET /users/:id': 2,
      'POST /any': 1,
      'GET /files/*': 2,
      [UNMATCHED_ROUTE]: 2,
    });
  });

  it('takes the status from the response, and the bytes from its Content-Length where it has one', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const app = measuredApp(stats);
    stats.sample(0);
    await app.request('/bytes');
    await app.request('/missing');
    const sample = stats.sample(1000);
    expect(sample.status).toMatchObject({ '2xx': 1, '4xx': 1 });
    expect(sample.bytes).toBe(1234);
    expect(sample.inFlight).toBe(0);
  });

  it('leaves event streams out, by the Accept header EventSource sends', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const app = measuredApp(stats);
    await app.request('/users/1', { headers: { Accept: 'text/event-stream' } });
    await app.request('/users/1', { headers: { Accept: 'application/json, text/event-stream;q=0.5' } });
    await app.request('/users/1', { headers: { Accept: 'text/html' } });
    expect(stats.sample(Date.now()).count).toBe(1);
  });

  it('counts a request whose handler throws as a 5xx', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const app = new Hono();
    app.use('*', requestMiddleware(stats));
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const response = await app.request('/boom');
    expect(response.status).toBe(500);
    const sample = stats.sample(Date.now());
    expect(sample.status['5xx']).toBe(1);
    expect(sample.routes[0]).toMatchObject({ route: 'GET /boom', count: 1, errors: 1 });
  });

  it('uses the route namer it is given', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const app = new Hono();
    app.use('*', requestMiddleware(stats, { routeOf: (c) => `named ${c.req.path}` }));
    app.get('/x', (c) => c.text('x'));
    await app.request('/x');
    expect(routesOf(stats)).toEqual({ 'named /x': 1 });
    expect(routeOfContext).toBeTypeOf('function');
  });
});

describe('request middleware on a Node server', () => {
  it('counts the bytes that went out on the socket, headers included, and leaves streams out by the Node header', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const { server, url } = await listen(measuredApp(stats));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    cleanups.push(() => server.closeAllConnections());
    stats.sample(0);
    const response = await fetch(`${url}/bytes`);
    const body = await response.text();
    await fetch(`${url}/users/1`, { headers: { Accept: 'text/event-stream' } }).then((r) => r.text());
    // The response's close is heard a moment after the client has the body.
    for (let i = 0; i < 200 && stats.requestsInFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const sample = stats.sample(1000);
    expect(sample.count).toBe(1);
    expect(sample.bytes).toBeGreaterThan(body.length);
    expect(sample.bytes).toBeLessThan(body.length + 400);
  });
});

describe('request middleware: what counts as the route', () => {
  it('takes a GET handler with a next parameter as the route, and a middleware that answers as unmatched', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const app = new Hono();
    app.use('*', requestMiddleware(stats));
    app.use('/private/*', async (c, _next) => c.text('no', 401)); // answers itself: a middleware still
    app.get('/chain', (c, _next) => c.text('chained'));
    app.get('/*', (c) => c.text('the page'));
    await app.request('/private/x');
    await app.request('/chain');
    await app.request('/anything');
    expect(routesOf(stats)).toEqual({ [UNMATCHED_ROUTE]: 1, 'GET /chain': 1, 'GET /*': 1 });
  });

  it('measures a request within the time the caller saw it take', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const app = new Hono();
    app.use('*', requestMiddleware(stats));
    app.get('/wait', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return c.text('ok');
    });
    stats.sample(0);
    const started = performance.now();
    await app.request('/wait');
    const outer = performance.now() - started;
    const { max } = stats.sample(1000).latency;
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(outer * 1.001 + 0.001);
  });
});

describe('request middleware on keep-alive and HTTP/2 connections', () => {
  it('counts each response once on a connection that carries several', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const { server, url } = await listen(measuredApp(stats));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    cleanups.push(() => server.closeAllConnections());
    let connections = 0;
    server.on('connection', () => connections++);
    stats.sample(0);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        get(`${url}/bytes`, { agent }, (response) => {
          response.resume();
          response.on('end', () => resolve());
        }).on('error', reject);
      });
    }
    for (let i = 0; i < 200 && stats.requestsInFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const sample = stats.sample(1000);
    expect(connections).toBe(1);
    expect(sample.count).toBe(3);
    expect(sample.bytes).toBeGreaterThan(3 * 1234);
    expect(sample.bytes).toBeLessThan(3 * (1234 + 400));
  });

  it('leaves the bytes of an HTTP/2 response at 0: the socket is shared by every stream', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const server = createHttp2Server(getRequestListener(measuredApp(stats).fetch));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    cleanups.push(() => session.destroy());
    stats.sample(0);
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':path': '/bytes' });
        stream.on('error', reject);
        stream.resume();
        stream.on('end', () => resolve());
      });
    }
    for (let i = 0; i < 200 && stats.requestsInFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const sample = stats.sample(1000);
    expect(sample.count).toBe(2);
    expect(sample.status['2xx']).toBe(2);
    expect(sample.bytes).toBe(0);
  });
});
