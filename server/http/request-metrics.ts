import type { StatusClass } from '../protocol.js';

/** Request latency buckets, seconds: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const DURATION = 'pulseboard_http_request_duration_seconds';
const DURATION_HELP = 'Time from the arrival of a request until its response is sent, by route pattern and status class';
const SIZE = 'pulseboard_http_response_size_bytes_total';
const SIZE_HELP = 'Bytes of responses sent, headers included (HTTP/1.1 on Node)';

interface DurationSeries {
  /** Requests per bucket, not cumulative; the last slot is above the largest bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface RouteSeries {
  byStatus: Map<StatusClass, DurationSeries>;
  bytes: number;
}

/**
 * The request duration histogram (by route pattern and status class) and response bytes (by route) of
 * `/metrics`, counted in plain arrays on each request and written out only when scraped. prom-client's
 * `observe` and `inc` turn their label object into a key on every call (~0.6 µs a request, on the path of
 * every request the middleware or the proxy measures); here a request costs two map lookups and a bucket.
 */
export class RequestMetrics {
  private readonly routes = new Map<string, RouteSeries>();

  observe(route: string, statusClass: StatusClass, seconds: number, bytes: number): void {
    let series = this.routes.get(route);
    if (series === undefined) {
      series = { byStatus: new Map(), bytes: 0 };
      this.routes.set(route, series);
    }
    let duration = series.byStatus.get(statusClass);
    if (duration === undefined) {
      duration = { counts: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
      series.byStatus.set(statusClass, duration);
    }
    let bucket = 0;
    // As Prometheus reads a bucket: the first bound the value is at or under.
    while (bucket < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[bucket] as number)) bucket++;
    duration.counts[bucket] = (duration.counts[bucket] as number) + 1;
    duration.sum += seconds;
    duration.count++;
    if (bytes > 0) series.bytes += bytes;
  }

  /** Both metrics in the Prometheus text format (HELP, TYPE, then each series), ending with a newline. */
  text(): string {
    const duration = [`# HELP ${DURATION} ${DURATION_HELP}`, `# TYPE ${DURATION} histogram`];
    const size = [`# HELP ${SIZE} ${SIZE_HELP}`, `# TYPE ${SIZE} counter`];
    for (const [route, series] of this.routes) {
      const routeLabel = `route="${escapeLabelValue(route)}"`;
      for (const [statusClass, { counts, sum, count }] of series.byStatus) {
        const labels = `${routeLabel},status_class="${statusClass}"`;
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((bound, i) => {
          cumulative += counts[i] as number;
          duration.push(`${DURATION}_bucket{le="${bound}",${labels}} ${cumulative}`);
        });
        duration.push(`${DURATION}_bucket{le="+Inf",${labels}} ${count}`);
        duration.push(`${DURATION}_sum{${labels}} ${sum}`);
        duration.push(`${DURATION}_count{${labels}} ${count}`);
      }
      if (series.bytes > 0) size.push(`${SIZE}{${routeLabel}} ${series.bytes}`);
    }
    return `${duration.join('\n')}\n\n${size.join('\n')}\n`;
  }
}

/** A label value as the text format writes it: backslash, double quote and line feed escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
