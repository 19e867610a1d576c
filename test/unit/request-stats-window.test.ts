import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../server/lib/latency.js';
import { RequestStats } from '../../server/requests/stats.js';

/** A seeded generator, so a failure names the same ticks every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Recorded {
  at: number;
  route: string;
  ms: number;
}

const summaryOf = (requests: Recorded[], significantDigits: 2 | 3) => {
  const histogram = new LatencyHistogram(significantDigits);
  for (const request of requests) histogram.record(request.ms);
  return histogram.summary();
};

describe('request statistics window', () => {
  it('gives exactly the percentiles of the requests still in the window, in total and per route, as ticks leave it', () => {
    const random = seeded(20);
    const windowMs = 10_000;
    const stats = new RequestStats({ source: 'proxy', windowMs, topRoutes: 10 });
    const routes = ['GET /', 'GET /users/:id', 'POST /orders', 'GET /slow'];
    const recorded: Recorded[] = [];
    for (let tick = 1; tick <= 40; tick++) {
      const now = tick * 1000;
      // Some ticks are empty, some busy; latencies from a microsecond to minutes, so slices span many buckets.
      const requests = tick % 7 === 0 ? 0 : Math.floor(random() * 300);
      for (let i = 0; i < requests; i++) {
        const route = routes[Math.floor(random() * routes.length)] as string;
        const ms = route === 'GET /slow' ? 1000 + random() * 120_000 : 0.001 + random() ** 3 * 2000;
        stats.requestStarted();
        stats.requestEnded(route, '2xx', ms, 0);
        recorded.push({ at: now, route, ms });
      }
      const sample = stats.sample(now);
      const inWindow = recorded.filter((request) => request.at > now - windowMs);
      expect(sample.window.count).toBe(inWindow.length);
      expect(sample.window.latency).toEqual(summaryOf(inWindow, 3));
      const expectedRoutes = routes
        .map((route) => inWindow.filter((request) => request.route === route))
        .filter((requests) => requests.length > 0)
        .map((requests) => ({ route: requests[0]?.route, count: requests.length, latency: summaryOf(requests, 2) }));
      const actualRoutes = sample.routes.map(({ route, count, latency }) => ({ route, count, latency }));
      expect(actualRoutes.sort((a, b) => a.route.localeCompare(b.route))).toEqual(
        expectedRoutes.sort((a, b) => (a.route as string).localeCompare(b.route as string)),
      );
    }
  });

  it('takes out exactly what was added, also after counts were taken out of the one taken out', () => {
    const window = new LatencyHistogram(3);
    const slice = new LatencyHistogram(3);
    const other = new LatencyHistogram(3);
    for (const ms of [0.002, 0.5, 7, 7, 90_000]) slice.record(ms);
    other.record(90_000);
    window.add(slice);
    window.record(3);
    // The slice's recorded max (90 s) stays although that count is gone: its walk still covers what is left.
    slice.subtract(other);
    window.subtract(slice);
    expect(window.count).toBe(2);
    const expected = new LatencyHistogram(3);
    expected.record(3);
    expected.record(90_000);
    expect(window.summary()).toEqual(expected.summary());
  });
});
