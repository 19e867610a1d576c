import { describe, expect, it } from 'vitest';
import { OTHER_ROUTES, RequestStats, statusClassOf } from '../../server/requests/stats.js';

const end = (stats: RequestStats, route: string, ms = 1, statusClass: Parameters<RequestStats['requestEnded']>[1] = '2xx', bytes = 0) => {
  stats.requestStarted();
  stats.requestEnded(route, statusClass, ms, bytes);
};

describe('request statistics edges', () => {
  it('classes statuses at the edges of each class', () => {
    expect([100, 199, 200, 299, 300, 399, 400, 499, 500, 599].map(statusClassOf)).toEqual([
      '1xx',
      '1xx',
      '2xx',
      '2xx',
      '3xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
  });

  it('has no rate on the first tick (no length yet), then rates per second to three decimals', () => {
    const stats = new RequestStats({ source: 'self' });
    end(stats, 'GET /a');
    expect(stats.sample(1000).rate).toBe(0);
    end(stats, 'GET /a');
    expect(stats.sample(4000).rate).toBe(0.333);
    expect(stats.sample(4000).rate).toBe(0); // no time passed
  });

  it('never counts in-flight below zero', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.requestEnded('GET /a', '2xx', 1, 0);
    expect(stats.requestsInFlight).toBe(0);
    stats.requestStarted();
    expect(stats.requestsInFlight).toBe(1);
  });

  it('reports the exact slowest request of a tick, to the microsecond, and the bytes', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.sample(0);
    end(stats, 'GET /a', 1.23449, '2xx', 10);
    end(stats, 'GET /a', 0.5, '2xx', 32);
    const sample = stats.sample(1000);
    expect(sample.latency.max).toBe(1.234);
    expect(sample.bytes).toBe(42);
  });

  it('gives each sample its own status counts: the next tick does not change the last one', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.sample(0);
    end(stats, 'GET /a', 1, '4xx');
    const first = stats.sample(1000);
    end(stats, 'GET /a', 1, '4xx');
    end(stats, 'GET /a', 1, '2xx');
    const second = stats.sample(2000);
    expect(first.status['4xx']).toBe(1);
    expect(second.status).toEqual({ '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 1, '5xx': 0, aborted: 0 });
    expect(first.count).toBe(1);
    expect(second.bytes).toBe(0);
    expect(stats.sample(3000).latency).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('keeps counting a route it already tracks once the cap is reached, in this tick and the next', () => {
    const stats = new RequestStats({ source: 'self', maxRoutes: 1, topRoutes: 10 });
    stats.sample(0);
    end(stats, 'GET /a');
    end(stats, 'GET /b'); // past the cap: other
    end(stats, 'GET /a');
    let routes = Object.fromEntries(stats.sample(1000).routes.map((r) => [r.route, r.count]));
    expect(routes).toEqual({ 'GET /a': 2, [OTHER_ROUTES]: 1 });
    end(stats, 'GET /a');
    end(stats, 'GET /c');
    routes = Object.fromEntries(stats.sample(2000).routes.map((r) => [r.route, r.count]));
    expect(routes).toEqual({ 'GET /a': 3, [OTHER_ROUTES]: 2 });
  });

  it('counts a new route in the tick against the cap before it reaches the window', () => {
    const stats = new RequestStats({ source: 'self', maxRoutes: 2, topRoutes: 10 });
    stats.sample(0);
    end(stats, 'GET /a');
    stats.sample(1000); // /a is in the window now
    end(stats, 'GET /b'); // tracked: 1 in the window + this one = 2
    end(stats, 'GET /c'); // past the cap
    end(stats, 'GET /a');
    const routes = Object.fromEntries(stats.sample(2000).routes.map((r) => [r.route, r.count]));
    expect(routes).toEqual({ 'GET /a': 2, 'GET /b': 1, [OTHER_ROUTES]: 1 });
  });

  it('tells observers each request with its route bucket', () => {
    const stats = new RequestStats({ source: 'proxy', maxRoutes: 1 });
    const seen: string[] = [];
    stats.onRequestEnded((route, statusClass, ms, bytes) => seen.push(`${route} ${statusClass} ${ms} ${bytes}`));
    end(stats, 'GET /a', 2, '2xx', 5);
    end(stats, 'GET /b', 3, '5xx', 0);
    expect(seen).toEqual(['GET /a 2xx 2 5', `${OTHER_ROUTES} 5xx 3 0`]);
  });

  it('takes a slow tick out of a route figures when it leaves the window', () => {
    const stats = new RequestStats({ source: 'self', windowMs: 2000 });
    stats.sample(0);
    end(stats, 'GET /a', 500);
    stats.sample(1000);
    end(stats, 'GET /a', 2);
    const both = stats.sample(2000).routes[0];
    expect(both).toMatchObject({ route: 'GET /a', count: 2 });
    expect(both?.latency.max).toBeGreaterThanOrEqual(500);
    end(stats, 'GET /a', 2);
    const later = stats.sample(3000).routes[0];
    expect(later).toMatchObject({ route: 'GET /a', count: 2, errors: 0 });
    expect(later?.latency.max).toBeLessThan(3);
  });

  it('counts errors per route and in the window: 5xx and aborted, not 4xx', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.sample(0);
    end(stats, 'GET /a', 1, '5xx');
    end(stats, 'GET /a', 1, 'aborted');
    end(stats, 'GET /a', 1, '4xx');
    end(stats, 'GET /a', 1, '3xx');
    const sample = stats.sample(1000);
    expect(sample.window).toMatchObject({ count: 4, errors: 2 });
    expect(sample.routes[0]).toMatchObject({ count: 4, errors: 2 });
  });

  it('lists the busiest routes and the slowest ones, each once', () => {
    const stats = new RequestStats({ source: 'self', topRoutes: 2 });
    stats.sample(0);
    for (let i = 0; i < 5; i++) end(stats, 'GET /busy', 1);
    for (let i = 0; i < 4; i++) end(stats, 'GET /busy2', 2);
    end(stats, 'GET /slow', 900);
    end(stats, 'GET /slow2', 800);
    end(stats, 'GET /quiet', 3);
    const routes = stats.sample(1000).routes.map((r) => r.route);
    expect(routes).toEqual(['GET /busy', 'GET /busy2', 'GET /slow', 'GET /slow2']);
    const both = new RequestStats({ source: 'self', topRoutes: 1 });
    both.sample(0);
    end(both, 'GET /a', 900);
    end(both, 'GET /a', 900);
    end(both, 'GET /b', 1);
    expect(both.sample(1000).routes.map((r) => r.route)).toEqual(['GET /a']);
  });

  it('is a collector of the requests topic, named after its source', () => {
    const stats = new RequestStats({ source: 'embedded', windowMs: 5000 });
    const collector = stats.collector(250);
    expect(collector).toMatchObject({ topic: 'requests', source: 'middleware (embedded)', cadenceMs: 250 });
    end(stats, 'GET /a');
    expect(collector.sample(1000)).toMatchObject({ t: 1000, source: 'embedded', count: 1, window: { ms: 5000, count: 1 } });
  });

  it('has a one-minute window, a hundred routes and a top eight by default', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.sample(0);
    for (let i = 0; i < 120; i++) end(stats, `GET /r${i}`, i + 1);
    const sample = stats.sample(1000);
    expect(sample.window.ms).toBe(60_000);
    expect(sample.routes).toHaveLength(15); // top 8 by count and top 8 by p99: 'other' (20 requests, the slowest) is in both
    expect(sample.routes.map((r) => r.route)).toContain(OTHER_ROUTES);
    expect(stats.sample(60_999).window.count).toBe(120);
    expect(stats.sample(61_000).window.count).toBe(0);
  });
});

describe('request statistics: errors leave the window too', () => {
  it('takes the errors of an expired tick out of the window and out of its route', () => {
    const stats = new RequestStats({ source: 'self', windowMs: 2000 });
    stats.sample(0);
    end(stats, 'GET /a', 1, '5xx');
    stats.sample(1000);
    end(stats, 'GET /a', 1, '2xx');
    const both = stats.sample(2000);
    expect(both.window).toMatchObject({ count: 2, errors: 1 });
    const later = stats.sample(3000);
    expect(later.window).toMatchObject({ count: 1, errors: 0 });
    expect(later.routes[0]).toMatchObject({ route: 'GET /a', count: 1, errors: 0 });
  });

  it('does not count a route of this tick twice against the cap when the window has it', () => {
    const stats = new RequestStats({ source: 'self', maxRoutes: 2, topRoutes: 10 });
    stats.sample(0);
    end(stats, 'GET /a');
    stats.sample(1000);
    end(stats, 'GET /a'); // in the window already: still one route tracked
    end(stats, 'GET /b'); // the second
    const routes = Object.fromEntries(stats.sample(2000).routes.map((r) => [r.route, r.count]));
    expect(routes).toEqual({ 'GET /a': 2, 'GET /b': 1 });
  });
});
