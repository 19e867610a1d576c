import { build, type Histogram, type JsHistogram } from 'hdr-histogram-js';
import type { LatencySummary } from '../protocol.js';

/** A histogram's non-zero counts and a value of each one's bucket, ascending. */
export interface OccupiedCounts {
  values: number[];
  counts: number[];
}

/** Latencies are recorded in microseconds, up to this (longer ones are clamped). */
const HIGHEST_US = 3_600_000_000;

export const ZERO_LATENCY: LatencySummary = { p50: 0, p90: 0, p99: 0, max: 0 };

/**
 * A latency histogram (HdrHistogram): percentiles within the stated precision whatever the count,
 * in constant memory. 3 significant digits = 0.1 % precision; 2 = 1 %.
 */
export class LatencyHistogram {
  private readonly histogram: Histogram;
  /** The library's own layout, for the index of a value in integer arithmetic (see `record`). */
  private readonly subBucketHalfCountMagnitude: number;
  private readonly subBucketHalfCount: number;

  constructor(significantDigits: 2 | 3 = 3) {
    this.histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: significantDigits,
      autoResize: false,
      bitBucketSize: 32,
    });
    const js = this.histogram as JsHistogram;
    // The index math below assumes the lowest discernible value is 1 (unit magnitude 0), as built above.
    if (js.unitMagnitude !== 0) throw new Error('LatencyHistogram: unexpected unit magnitude');
    this.subBucketHalfCountMagnitude = js.subBucketHalfCountMagnitude;
    this.subBucketHalfCount = js.subBucketHalfCount;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /**
   * Records one latency. The counts index is the library's own (`countsArrayIndex`), computed with `clz32` and a
   * shift where the library uses `Math.log2`, `Math.pow` and a division: the same index for every integer up to
   * 2^32, at a fraction of the cost, on the path every request takes.
   */
  record(ms: number): void {
    const us = Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000)));
    const histogram = this.histogram as JsHistogram;
    const magnitude = 31 - Math.clz32(us);
    const bucket = Math.max(magnitude - this.subBucketHalfCountMagnitude, 0);
    const subBucket = us >>> bucket;
    // The library's (bucket + 1) × half + subBucket − half.
    histogram.incrementCountAtIndex(bucket * this.subBucketHalfCount + subBucket);
    histogram.updateMinAndMax(us);
    histogram.incrementTotalCount();
  }

  /**
   * Adds the other's counts. Only the indexes between its smallest and largest value are visited: the library's
   * own add walks all ~45 000 counts, which made closing each tick of request statistics cost milliseconds.
   */
  add(other: LatencyHistogram): void {
    this.addCounts(other.occupied(), 1);
  }

  /** Takes the other's counts out (they must have been added): as `add`, only its occupied range is visited. */
  subtract(other: LatencyHistogram): void {
    this.addCounts(other.occupied(), -1);
  }

  /**
   * The non-zero counts, each with a value of its bucket: what a window keeps of a closed tick, so that adding
   * it and taking it out again cost one step per occupied bucket. Only the range between the smallest and the
   * largest value recorded is walked; the library never narrows them when counts are taken out, so that range
   * covers every non-zero count.
   */
  occupied(): OccupiedCounts {
    const values: number[] = [];
    const counts: number[] = [];
    const histogram = this.histogram as JsHistogram;
    if (histogram.totalCount === 0) return { values, counts };
    const last = histogram.countsArrayIndex(histogram.maxValue);
    for (let i = histogram.countsArrayIndex(histogram.minNonZeroValue); i <= last; i++) {
      const count = histogram.getCountAtIndex(i);
      if (count === 0) continue;
      values.push(histogram.valueFromIndex(i));
      counts.push(count);
    }
    return { values, counts };
  }

  /** Adds (sign 1) or takes out (sign -1) counts taken with `occupied` from a histogram of the same precision. */
  addCounts(occupied: OccupiedCounts, sign: 1 | -1): void {
    const { values, counts } = occupied;
    for (let i = 0; i < values.length; i++) this.histogram.recordValueWithCount(values[i] as number, sign * (counts[i] as number));
  }

  reset(): void {
    this.histogram.reset();
  }

  /** The occupied buckets: values (µs, each bucket's highest equivalent value) and counts, ascending. */
  buckets(): { v: number[]; c: number[] } {
    const v: number[] = [];
    const c: number[] = [];
    const histogram = this.histogram as JsHistogram;
    if (histogram.totalCount === 0) return { v, c };
    // Only the indexes between the smallest and the largest value recorded: the whole counts array is ~45 000 long.
    const last = histogram.countsArrayIndex(histogram.maxValue);
    for (let i = histogram.countsArrayIndex(histogram.minNonZeroValue); i <= last; i++) {
      const count = histogram.getCountAtIndex(i);
      if (count === 0) continue;
      v.push(histogram.highestEquivalentValue(histogram.valueFromIndex(i)));
      c.push(count);
    }
    return { v, c };
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
