import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/http/app.js';
import { Monitor } from '../../server/monitor.js';
import type { RequestsSample } from '../../server/protocol.js';
import { requestMiddleware } from '../../server/requests/middleware.js';
import { RequestStats } from '../../server/requests/stats.js';
import type { RunningServer } from '../../server/serve.js';
import { startTestServer, testConfig } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';
import { bracketTimers, driveMix, fixtureApp, listen, MIX, percentile, SLOW_MS } from '../helpers/traffic.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const closeServer = (server: Server) => () => new Promise((resolve) => server.close(resolve));

/** Sums the `requests` events of a stream until `total` requests have been reported. */
async function collectRequests(streamUrl: string, total: number, drive: () => Promise<unknown>): Promise<RequestsSample[]> {
  const stream = await openSse(`${streamUrl}?topics=requests`);
  cleanup.push(() => stream.close());
  await stream.until((frames) => frames.some((f) => f.event === 'backfill'));
  const skip = stream.frames.length;
  await drive();
  const samples = () =>
    stream.frames
      .slice(skip)
      .filter((f) => f.event === 'requests')
      .map((f) => JSON.parse(f.data ?? '') as RequestsSample);
  await stream.until(() => samples().reduce((sum, s) => sum + s.count, 0) >= total, 15_000);
  // Two more ticks: a request counted twice, or late, would show up in them.
  const reached = samples().length;
  await stream.until(() => samples().length >= reached + 2);
  return samples();
}

function totals(samples: RequestsSample[]) {
  const status = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, aborted: 0 };
  let count = 0;
  for (const sample of samples) {
    count += sample.count;
    for (const key of Object.keys(status) as (keyof typeof status)[]) status[key] += sample.status[key];
  }
  return { count, status };
}

const TOTAL = MIX.fast + MIX.slow + MIX.missing + MIX.thrown;

describe('request statistics, embedded middleware', () => {
  it('reports exact counts per status class and route, and p50/p99 within the histogram precision', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const monitor = await Monitor.create({ config: testConfig(), collectors: [], requestStats: stats });
    monitor.start();
    cleanup.push(() => monitor.close());
    const exact = bracketTimers();
    const app = fixtureApp(exact.outer, requestMiddleware(stats), exact.inner);
    app.route('/_pulse', createApp(monitor));
    const { server, url } = await listen(app);
    cleanup.push(closeServer(server));

    const samples = await collectRequests(`${url}/_pulse/api/events`, TOTAL, () => driveMix(url));
    const sum = totals(samples);
    expect(sum.count).toBe(TOTAL);
    expect(sum.status).toEqual({ '1xx': 0, '2xx': MIX.fast + MIX.slow, '3xx': 0, '4xx': MIX.missing, '5xx': MIX.thrown, aborted: 0 });
    expect(samples.every((s) => s.source === 'embedded')).toBe(true);

    const last = samples.at(-1) as RequestsSample;
    expect(last.window.count).toBe(TOTAL);
    const route = (name: string) => last.routes.find((r) => r.route === name);
    expect(route('GET /fast')?.count).toBe(MIX.fast);
    expect(route('GET /slow/:id')?.count).toBe(MIX.slow);
    expect(route('GET /boom')).toMatchObject({ count: MIX.thrown, errors: MIX.thrown });
    expect(route('unmatched')?.count).toBe(MIX.missing);
    expect(last.routes.some((r) => r.route.includes('missing-'))).toBe(false);
    expect(route('GET /slow/:id')?.latency.p50).toBeGreaterThanOrEqual(SLOW_MS * 0.99);

    // Each request's span lies between the test's inner and outer spans, so each percentile does too,
    // within the histogram's 0.1 % and the microsecond it rounds to.
    const inner = [...exact.innerValues].sort((a, b) => a - b);
    const outer = [...exact.outerValues].sort((a, b) => a - b);
    expect(inner).toHaveLength(TOTAL);
    expect(outer).toHaveLength(TOTAL);
    for (const [p, got] of [
      [50, last.window.latency.p50],
      [99, last.window.latency.p99],
    ] as const) {
      expect(got).toBeGreaterThanOrEqual(percentile(inner, p) * 0.999 - 0.001);
      expect(got).toBeLessThanOrEqual(percentile(outer, p) * 1.001 + 0.001);
    }
  });

  it('counts a request whose client leaves before the response as aborted', async () => {
    const stats = new RequestStats({ source: 'embedded' });
    const monitor = await Monitor.create({ config: testConfig(), collectors: [], requestStats: stats });
    monitor.start();
    cleanup.push(() => monitor.close());
    const app = fixtureApp(requestMiddleware(stats));
    app.get('/held', () => new Promise<Response>(() => {})); // answers never: only the client can end it
    app.route('/_pulse', createApp(monitor));
    const { server, url } = await listen(app);
    cleanup.push(closeServer(server));
    cleanup.push(() => server.closeAllConnections()); // runs first: the held request keeps its connection
    const samples = await collectRequests(`${url}/_pulse/api/events`, 2, async () => {
      const controller = new AbortController();
      const leaving = fetch(`${url}/held`, { signal: controller.signal }).catch(() => 'aborted');
      // The client leaves once the server has the request in hand.
      while (stats.requestsInFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      expect(await leaving).toBe('aborted');
      await (await fetch(`${url}/fast`)).arrayBuffer();
    });
    expect(totals(samples).status).toMatchObject({ aborted: 1, '2xx': 1 });
    expect((samples.at(-1) as RequestsSample).routes.find((r) => r.route === 'GET /held')).toMatchObject({ count: 1, errors: 1 });
  });

  it('does not count the event stream, and counts idle ticks as zeros', async () => {
    const server = await startTestServer();
    cleanup.push(() => server.close());
    const stream = await openSse(`${server.url}api/events?topics=requests`);
    cleanup.push(() => stream.close());
    await stream.until((frames) => frames.filter((f) => f.event === 'requests').length >= 3);
    const samples = stream
      .events()
      .filter((e) => e.event === 'requests')
      .map((e) => e.data as RequestsSample);
    expect(samples.every((s) => s.source === 'self' && s.inFlight === 0)).toBe(true);
    expect(samples.reduce((sum, s) => sum + s.count, 0)).toBe(0);
  });

  it('measures the dashboard own routes in standalone mode', async () => {
    const server = await startTestServer();
    cleanup.push(() => server.close());
    const samples = await collectRequests(`${server.url}api/events`, 12, async () => {
      for (let i = 0; i < 10; i++) await (await fetch(`${server.url}api/snapshot`)).arrayBuffer();
      for (let i = 0; i < 2; i++) await (await fetch(`${server.url}api/nope`)).arrayBuffer();
    });
    const last = samples.at(-1) as RequestsSample;
    expect(last.routes.find((r) => r.route === 'GET /api/snapshot')?.count).toBe(10);
    expect(totals(samples).status['2xx']).toBe(10);
    expect(totals(samples).status['4xx']).toBe(2);
  });
});

describe('request statistics, reverse proxy', () => {
  let running: RunningServer | undefined;

  it('forwards the mix to the upstream and measures it; a dead upstream gives 502s that count as such', async () => {
    const upstream = await listen(fixtureApp());
    cleanup.push(closeServer(upstream.server));
    running = await startTestServer({ proxy: new URL(upstream.url), proxyPort: 0 });
    cleanup.push(() => running?.close());
    const proxyUrl = (running.proxy?.url ?? '').replace(/\/$/, '');

    const statuses: Record<number, number> = {};
    const samples = await collectRequests(`${running.url}api/events`, TOTAL, async () => Object.assign(statuses, await driveMix(proxyUrl)));
    expect(statuses).toEqual({ 200: MIX.fast + MIX.slow, 404: MIX.missing, 500: MIX.thrown });
    const sum = totals(samples);
    expect(sum.count).toBe(TOTAL);
    expect(sum.status).toMatchObject({ '2xx': MIX.fast + MIX.slow, '4xx': MIX.missing, '5xx': MIX.thrown });
    expect(samples.every((s) => s.source === 'proxy')).toBe(true);
    const last = samples.at(-1) as RequestsSample;
    expect(last.routes.find((r) => r.route === 'GET /slow/:id')?.count).toBe(MIX.slow);

    // A POST body and a streamed response pass through unchanged.
    const echoed = await fetch(`${proxyUrl}/fast`, { method: 'GET', headers: { 'X-Test': '1' } });
    expect(await echoed.text()).toBe('ok');

    await new Promise((resolve) => upstream.server.close(resolve));
    upstream.server.closeAllConnections();
    const down = await collectRequests(`${running.url}api/events`, 3, async () => {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${proxyUrl}/fast`);
        expect(response.status).toBe(502);
        expect(await response.json()).toEqual({ error: expect.stringContaining('unreachable') });
      }
    });
    expect(totals(down).status['5xx']).toBe(3);
  });
});
