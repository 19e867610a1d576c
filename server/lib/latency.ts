import { build, type Histogram } from 'hdr-histogram-js';
import type { LatencySummary } from '../protocol.js';

/** Latencies are recorded in microseconds, up to this (longer ones are clamped). */
const HIGHEST_US = 3_600_000_000;

export const ZERO_LATENCY: LatencySummary = { p50: 0, p90: 0, p99: 0, max: 0 };

/**
 * A latency histogram (HdrHistogram): percentiles within the stated precision whatever the count,
 * in constant memory. 3 significant digits = 0.1 % precision; 2 = 1 %.
 */
export class LatencyHistogram {
  private readonly histogram: Histogram;

  constructor(significantDigits: 2 | 3 = 3, packed = false) {
    this.histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: significantDigits,
      autoResize: false,
      bitBucketSize: packed ? 'packed' : 32,
    });
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  record(ms: number): void {
    this.histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  subtract(other: LatencyHistogram): void {
    this.histogram.subtract(other.histogram);
  }

  reset(): void {
    this.histogram.reset();
  }

  /** Milliseconds. The max is the top of the highest occupied bucket (exact within the precision). */
  summary(): LatencySummary {
    if (this.histogram.totalCount === 0) return ZERO_LATENCY;
    const at = (percentile: number) => round3(this.histogram.getValueAtPercentile(percentile) / 1000);
    return { p50: at(50), p90: at(90), p99: at(99), max: at(100) };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
