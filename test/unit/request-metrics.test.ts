import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, RequestMetrics } from '../../server/http/request-metrics.js';
import type { StatusClass } from '../../server/protocol.js';

type Observation = { route: string; statusClass: StatusClass; seconds: number; bytes: number };

/** The same observations through prom-client's own Histogram and Counter, as /metrics wrote them before. */
async function promClientText(observations: Observation[]): Promise<string> {
  const registry = new Registry();
  const duration = new Histogram({
    name: 'pulseboard_http_request_duration_seconds',
    help: 'Time from the arrival of a request until its response is sent, by route pattern and status class',
    labelNames: ['route', 'status_class'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'pulseboard_http_response_size_bytes_total',
    help: 'Bytes of responses sent, headers included (HTTP/1.1 on Node)',
    labelNames: ['route'],
    registers: [registry],
  });
  for (const { route, statusClass, seconds, bytes: sent } of observations) {
    duration.observe({ route, status_class: statusClass }, seconds);
    if (sent > 0) bytes.inc({ route }, sent);
  }
  return registry.metrics();
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .sort();

const observation = fc.record({
  route: fc.constantFrom('GET /users/:id', 'POST /orders', 'GET /a"b', 'GET /back\\slash', 'GET /new\nline', 'unmatched'),
  statusClass: fc.constantFrom<StatusClass>('1xx', '2xx', '3xx', '4xx', '5xx', 'aborted'),
  // Bounds themselves (a value at a bound is in that bucket), between them, and beyond the last.
  seconds: fc.oneof(fc.constantFrom(...LATENCY_BUCKETS, 0, 20), fc.double({ min: 0, max: 30, noNaN: true })),
  bytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000_000 })),
});

describe('request metrics for /metrics', () => {
  it("writes the same series as prom-client's Histogram and Counter for the same requests (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const ours = new RequestMetrics();
        for (const { route, statusClass, seconds, bytes } of observations) ours.observe(route, statusClass, seconds, bytes);
        expect(lines(ours.text())).toEqual(lines(await promClientText(observations)));
      }),
      { numRuns: 200 },
    );
  });

  it('counts a request at a bucket bound in that bucket, and the +Inf bucket is the count', () => {
    const metrics = new RequestMetrics();
    metrics.observe('GET /', '2xx', 0.005, 10);
    metrics.observe('GET /', '2xx', 0.0051, 0);
    metrics.observe('GET /', '2xx', 11, 5);
    const text = metrics.text();
    expect(text).toContain('pulseboard_http_request_duration_seconds_bucket{le="0.005",route="GET /",status_class="2xx"} 1\n');
    expect(text).toContain('pulseboard_http_request_duration_seconds_bucket{le="0.01",route="GET /",status_class="2xx"} 2\n');
    expect(text).toContain('pulseboard_http_request_duration_seconds_bucket{le="10",route="GET /",status_class="2xx"} 2\n');
    expect(text).toContain('pulseboard_http_request_duration_seconds_bucket{le="+Inf",route="GET /",status_class="2xx"} 3\n');
    expect(text).toContain('pulseboard_http_request_duration_seconds_count{route="GET /",status_class="2xx"} 3\n');
    expect(text).toContain('pulseboard_http_response_size_bytes_total{route="GET /"} 15\n');
  });
});
