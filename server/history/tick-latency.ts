import type { LatencyBuckets } from './latency-buckets.js';

/** Where the request statistics report each closed tick's latency histogram. */
export interface TickLatencySource {
  onTickClosed(listener: (t: number, latency: { buckets(): LatencyBuckets }) => void): void;
}

/**
 * Pairs each `requests` sample with the latency buckets of its tick, so coarse tiers can merge the
 * histograms. The statistics close a tick just before its sample is published, with the same time.
 */
export class TickLatency {
  private last: { t: number; buckets: LatencyBuckets } | null = null;

  constructor(source: TickLatencySource) {
    source.onTickClosed((t, latency) => {
      this.last = { t, buckets: latency.buckets() };
    });
  }

  /** The buckets of the tick sampled at `t`, once; undefined for a tick without requests. */
  take(t: number): LatencyBuckets | undefined {
    const last = this.last;
    if (!last || last.t !== t) return undefined;
    this.last = null;
    return last.buckets;
  }
}
