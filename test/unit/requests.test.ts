import { describe, expect, it } from 'vitest';
import { routeOfProxiedPath } from '../../server/requests/route-groups.js';
import { RequestStats, statusClassOf } from '../../server/requests/stats.js';

describe('RequestStats', () => {
  it('reports zeros when idle, so charts keep moving', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.sample(1000);
    const sample = stats.sample(2000);
    expect(sample).toMatchObject({ count: 0, rate: 0, inFlight: 0, bytes: 0, latency: { p50: 0, p90: 0, p99: 0, max: 0 }, routes: [] });
    expect(Object.values(sample.status).every((n) => n === 0)).toBe(true);
  });

  it('counts per tick, rates per second, status classes and in-flight', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.sample(0);
    for (let i = 0; i < 7; i++) stats.requestStarted();
    stats.requestEnded('GET /a', '2xx', 1, 100);
    stats.requestEnded('GET /a', '2xx', 2, 100);
    stats.requestEnded('GET /b', '4xx', 3, 0);
    stats.requestEnded('GET /b', '5xx', 4, 0);
    stats.requestEnded('GET /b', 'aborted', 5, 0);
    const sample = stats.sample(500);
    expect(sample).toMatchObject({ count: 5, rate: 10, inFlight: 2, bytes: 200 });
    expect(sample.status).toEqual({ '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1, aborted: 1 });
    expect(sample.latency.max).toBe(5);
    expect(sample.window).toMatchObject({ count: 5, errors: 2 });
    const b = sample.routes.find((r) => r.route === 'GET /b');
    expect(b).toMatchObject({ count: 3, errors: 2 });
    expect(stats.sample(1000).count).toBe(0);
  });

  it('gives percentiles within the histogram precision (0.1 %) of the exact ones', () => {
    const stats = new RequestStats({ source: 'self' });
    stats.sample(0);
    const values: number[] = [];
    for (let i = 1; i <= 10_000; i++) {
      const ms = (i % 1000) * 0.37 + (i % 7) * 11.3;
      values.push(ms);
      stats.requestStarted();
      stats.requestEnded('GET /x', '2xx', ms, 0);
    }
    values.sort((a, b) => a - b);
    const exact = (p: number) => values[Math.ceil((p / 100) * values.length) - 1] as number;
    const { latency } = stats.sample(1000);
    for (const [p, got] of [
      [50, latency.p50],
      [90, latency.p90],
      [99, latency.p99],
    ] as const) {
      expect(Math.abs(got - exact(p))).toBeLessThanOrEqual(exact(p) * 0.001 + 0.001);
    }
    expect(latency.max).toBeCloseTo(values.at(-1) as number, 6);
  });

  it('slides the window: a tick older than the window leaves the totals and the route table', () => {
    const stats = new RequestStats({ source: 'self', windowMs: 3000 });
    stats.sample(0);
    stats.requestStarted();
    stats.requestEnded('GET /old', '2xx', 100, 0);
    expect(stats.sample(1000).window.count).toBe(1);
    stats.requestStarted();
    stats.requestEnded('GET /new', '2xx', 1, 0);
    const mid = stats.sample(2000);
    expect(mid.window.count).toBe(2);
    expect(mid.window.latency.max).toBeCloseTo(100, 0);
    const later = stats.sample(4000);
    expect(later.window.count).toBe(1);
    expect(later.window.latency.max).toBeCloseTo(1, 1);
    expect(later.routes.map((r) => r.route)).toEqual(['GET /new']);
    expect(stats.sample(10_000).window.count).toBe(0);
  });

  it('bounds the route table: routes past the cap share one bucket', () => {
    const stats = new RequestStats({ source: 'self', maxRoutes: 3, topRoutes: 10 });
    stats.sample(0);
    for (let i = 0; i < 10; i++) {
      stats.requestStarted();
      stats.requestEnded(`GET /r${i}`, '2xx', 1, 0);
    }
    const routes = stats
      .sample(1000)
      .routes.map((r) => r.route)
      .sort();
    expect(routes).toEqual(['GET /r0', 'GET /r1', 'GET /r2', 'other']);
  });

  it('lists the top routes by count and by p99', () => {
    const stats = new RequestStats({ source: 'self', topRoutes: 1 });
    stats.sample(0);
    for (let i = 0; i < 5; i++) {
      stats.requestStarted();
      stats.requestEnded('GET /busy', '2xx', 1, 0);
    }
    stats.requestStarted();
    stats.requestEnded('GET /slow', '2xx', 500, 0);
    stats.requestStarted();
    stats.requestEnded('GET /quiet', '2xx', 2, 0);
    expect(stats.sample(1000).routes.map((r) => r.route)).toEqual(['GET /busy', 'GET /slow']);
  });
});

describe('status classes and proxied route names', () => {
  it('classes statuses', () => {
    expect([101, 200, 204, 304, 404, 499, 500, 503].map(statusClassOf)).toEqual(['1xx', '2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx']);
  });

  it('groups proxied paths without raw ids, so cardinality stays bounded', () => {
    expect(routeOfProxiedPath('GET', '/users/123')).toBe('GET /users/:id');
    expect(routeOfProxiedPath('GET', '/users/3f2a9c1b-1111-2222-3333-444455556666/posts')).toBe('GET /users/:id/posts');
    expect(routeOfProxiedPath('POST', '/a/b/c/d/e')).toBe('POST /a/b/c/*');
    expect(routeOfProxiedPath('GET', '/')).toBe('GET /');
  });
});
