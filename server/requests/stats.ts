import type { Collector } from '../collect/collector.js';
import { LatencyHistogram, type OccupiedCounts, ZERO_LATENCY } from '../lib/latency.js';
import type { RequestsSample, RouteStats, StatusClass, TrafficSource } from '../protocol.js';

export const UNMATCHED_ROUTE = 'unmatched';
export const OTHER_ROUTES = 'other';

export interface RequestStatsOptions {
  source: TrafficSource;
  /** The sliding window of the `window` and `routes` figures. */
  windowMs?: number;
  /** Distinct routes tracked in the window; the rest share the `other` bucket. */
  maxRoutes?: number;
  /** Routes listed per sample (top by count, plus top by p99). */
  topRoutes?: number;
}

export type RequestObserver = (route: string, statusClass: StatusClass, ms: number, bytes: number) => void;

interface RouteSlice {
  count: number;
  errors: number;
  latency: LatencyHistogram;
}

/** What the open tick sees. Its histograms are plain ones, reset and reused tick after tick. */
interface Slice {
  count: number;
  errors: number;
  latency: LatencyHistogram;
  routes: Map<string, RouteSlice>;
}

/**
 * What a closed tick saw, kept for the length of the window so it can be taken out of the totals again:
 * only its occupied histogram buckets, so adding it to the window and taking it out cost one step per bucket
 * (walking the ~45 000 counts of a histogram, or a packed histogram's range, cost ~10 ms a tick).
 */
interface ClosedSlice {
  count: number;
  errors: number;
  latency: OccupiedCounts;
  routes: Map<string, { count: number; errors: number; latency: OccupiedCounts }>;
}

const emptyStatus = (): Record<StatusClass, number> => ({ '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, aborted: 0 });

export function statusClassOf(status: number): StatusClass {
  if (status >= 100 && status < 200) return '1xx';
  if (status < 300) return '2xx';
  if (status < 400) return '3xx';
  if (status < 500) return '4xx';
  return '5xx';
}

const isError = (statusClass: StatusClass) => statusClass === '5xx' || statusClass === 'aborted';

/**
 * Request statistics: per tick (count, rate, status classes, latency percentiles from a histogram)
 * and over a sliding window (totals and per route). The window is a ring of per-tick slices whose sums
 * are kept incrementally: each tick adds the new slice and subtracts the one that falls out.
 */
export class RequestStats {
  readonly source: TrafficSource;
  private readonly windowMs: number;
  private readonly maxRoutes: number;
  private readonly topRoutes: number;
  private inFlight = 0;
  private tick: Slice = { count: 0, errors: 0, latency: new LatencyHistogram(3), routes: new Map() };
  /** Plain per-route histograms of closed ticks, reset and ready for the next routes that answer. */
  private readonly spareRouteLatencies: LatencyHistogram[] = [];
  private tickStatus = emptyStatus();
  private tickBytes = 0;
  private tickMaxMs = 0;
  private lastTickAt: number | null = null;
  private readonly ring: { at: number; slice: ClosedSlice }[] = [];
  private readonly windowTotals = { count: 0, errors: 0, latency: new LatencyHistogram(3) };
  private readonly windowRoutes = new Map<string, RouteSlice>();
  private readonly observers: RequestObserver[] = [];
  private readonly tickListeners: ((t: number, latency: LatencyHistogram) => void)[] = [];

  constructor(options: RequestStatsOptions) {
    this.source = options.source;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxRoutes = options.maxRoutes ?? 100;
    this.topRoutes = options.topRoutes ?? 8;
  }

  /** Called for every request measured, with its route bucket (`other` past the route cap). */
  onRequestEnded(observer: RequestObserver): void {
    this.observers.push(observer);
  }

  /** Called as each tick with requests closes, with its latency histogram (durable history merges them). */
  onTickClosed(listener: (t: number, latency: LatencyHistogram) => void): void {
    this.tickListeners.push(listener);
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestEnded(route: string, statusClass: StatusClass, ms: number, bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const tick = this.tick;
    tick.count++;
    this.tickStatus[statusClass]++;
    this.tickBytes += bytes;
    if (ms > this.tickMaxMs) this.tickMaxMs = ms;
    tick.latency.record(ms);
    if (isError(statusClass)) tick.errors++;
    const key = tick.routes.has(route) || this.windowRoutes.has(route) || this.trackedRoutes() < this.maxRoutes ? route : OTHER_ROUTES;
    let perRoute = tick.routes.get(key);
    if (!perRoute) {
      perRoute = { count: 0, errors: 0, latency: this.spareRouteLatencies.pop() ?? new LatencyHistogram(2) };
      tick.routes.set(key, perRoute);
    }
    perRoute.count++;
    if (isError(statusClass)) perRoute.errors++;
    perRoute.latency.record(ms);
    for (const observer of this.observers) observer(key, statusClass, ms, bytes);
  }

  /** Closes the current tick and returns its sample. */
  sample(now: number): RequestsSample {
    const elapsedMs = this.lastTickAt === null ? 0 : now - this.lastTickAt;
    this.lastTickAt = now;
    const tick = this.tick;
    const tickLatency = tick.count === 0 ? ZERO_LATENCY : { ...tick.latency.summary(), max: round3(this.tickMaxMs) };
    if (tick.count > 0) {
      this.addToWindow(closedCopyOf(tick), now);
      for (const listener of this.tickListeners) listener(now, tick.latency);
    }
    this.dropExpiredSlices(now);
    const sample: RequestsSample = {
      t: now,
      source: this.source,
      count: tick.count,
      rate: elapsedMs > 0 ? round3((tick.count * 1000) / elapsedMs) : 0,
      inFlight: this.inFlight,
      status: this.tickStatus,
      latency: tickLatency,
      bytes: this.tickBytes,
      window: {
        ms: this.windowMs,
        count: this.windowTotals.count,
        errors: this.windowTotals.errors,
        latency: this.windowTotals.latency.summary(),
      },
      routes: this.routeStats(),
    };
    this.resetTick();
    return sample;
  }

  collector(cadenceMs: number): Collector<'requests'> {
    return { topic: 'requests', source: `middleware (${this.source})`, cadenceMs, sample: (now) => this.sample(now) };
  }

  private trackedRoutes(): number {
    let extra = 0;
    for (const key of this.tick.routes.keys()) if (!this.windowRoutes.has(key)) extra++;
    return this.windowRoutes.size + extra;
  }

  /** Opens the next tick. The status object is replaced, not cleared: the sample just returned holds it. */
  private resetTick(): void {
    this.tickStatus = emptyStatus();
    this.tickBytes = 0;
    this.tickMaxMs = 0;
    const tick = this.tick;
    if (tick.count === 0) return;
    tick.count = 0;
    tick.errors = 0;
    tick.latency.reset();
    for (const part of tick.routes.values()) {
      part.latency.reset();
      this.spareRouteLatencies.push(part.latency);
    }
    tick.routes.clear();
  }

  private addToWindow(slice: ClosedSlice, now: number): void {
    const totals = this.windowTotals;
    this.ring.push({ at: now, slice });
    totals.count += slice.count;
    totals.errors += slice.errors;
    totals.latency.addCounts(slice.latency, 1);
    for (const [route, part] of slice.routes) {
      let sum = this.windowRoutes.get(route);
      if (!sum) {
        sum = { count: 0, errors: 0, latency: new LatencyHistogram(2) };
        this.windowRoutes.set(route, sum);
      }
      sum.count += part.count;
      sum.errors += part.errors;
      sum.latency.addCounts(part.latency, 1);
    }
  }

  private dropExpiredSlices(now: number): void {
    const totals = this.windowTotals;
    while (this.ring.length > 0 && (this.ring[0]?.at ?? now) <= now - this.windowMs) {
      const { slice: old } = this.ring.shift() as { at: number; slice: ClosedSlice };
      totals.count -= old.count;
      totals.errors -= old.errors;
      totals.latency.addCounts(old.latency, -1);
      for (const [route, part] of old.routes) {
        const sum = this.windowRoutes.get(route);
        if (!sum) continue;
        sum.count -= part.count;
        sum.errors -= part.errors;
        if (sum.count <= 0) this.windowRoutes.delete(route);
        else sum.latency.addCounts(part.latency, -1);
      }
    }
  }

  private routeStats(): RouteStats[] {
    const all: RouteStats[] = [...this.windowRoutes].map(([route, sum]) => ({
      route,
      count: sum.count,
      errors: sum.errors,
      latency: sum.latency.summary(),
    }));
    const byCount = [...all].sort((a, b) => b.count - a.count).slice(0, this.topRoutes);
    const byP99 = [...all].sort((a, b) => b.latency.p99 - a.latency.p99).slice(0, this.topRoutes);
    return [...new Set([...byCount, ...byP99])];
  }
}

function closedCopyOf(tick: Slice): ClosedSlice {
  const routes: ClosedSlice['routes'] = new Map();
  for (const [route, part] of tick.routes) routes.set(route, { count: part.count, errors: part.errors, latency: part.latency.occupied() });
  return { count: tick.count, errors: tick.errors, latency: tick.latency.occupied(), routes };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
