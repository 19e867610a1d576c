import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { LatencyHistogram, ZERO_LATENCY } from '../../server/lib/latency.js';

/** Within the histogram's precision: 0.1 % at three significant digits (it reports the top of a bucket). */
const near = (actual: number, expected: number) => {
  expect(actual).toBeGreaterThanOrEqual(expected);
  expect(actual).toBeLessThanOrEqual(expected * 1.001 + 0.001);
};

describe('latency histogram', () => {
  it("puts every value in the library's own bucket (its index math, with clz32 instead of log2): powers of two ±1 and fast-check", () => {
    const HIGHEST_US = 3_600_000_000;
    const edges: number[] = [];
    for (let bit = 0; bit < 32; bit++) for (const delta of [-1, 0, 1]) edges.push(Math.min(HIGHEST_US, Math.max(1, 2 ** bit + delta)));
    const sameBuckets = (microseconds: number[], digits: 2 | 3) => {
      const ours = new LatencyHistogram(digits);
      for (const us of microseconds) ours.record(us / 1000);
      // addCounts records through the library's recordValueWithCount, which computes the index itself.
      const library = new LatencyHistogram(digits);
      library.addCounts({ values: microseconds, counts: microseconds.map(() => 1) }, 1);
      expect(ours.buckets()).toEqual(library.buckets());
      expect(ours.summary()).toEqual(library.summary());
      expect(ours.count).toBe(microseconds.length);
    };
    sameBuckets(edges, 3);
    sameBuckets(edges, 2);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: HIGHEST_US }), { minLength: 1, maxLength: 50 }),
        fc.constantFrom<2 | 3>(2, 3),
        sameBuckets,
      ),
      { numRuns: 300 },
    );
  });

  it('summarises nothing as zeros', () => {
    expect(new LatencyHistogram().summary()).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
    expect(ZERO_LATENCY).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
    expect(new LatencyHistogram().count).toBe(0);
  });

  it('gives p50, p90, p99 and max in milliseconds, to the microsecond', () => {
    const histogram = new LatencyHistogram(3);
    for (let i = 1; i <= 100; i++) histogram.record(i);
    expect(histogram.count).toBe(100);
    const { p50, p90, p99, max } = histogram.summary();
    near(p50, 50);
    near(p90, 90);
    near(p99, 99);
    near(max, 100);
    const fine = new LatencyHistogram(3);
    fine.record(0.123);
    expect(fine.summary()).toEqual({ p50: 0.123, p90: 0.123, p99: 0.123, max: 0.123 });
  });

  it('keeps three significant digits, or two when asked', () => {
    const three = new LatencyHistogram(3);
    three.record(123.456);
    expect(three.summary().max).toBeCloseTo(123.456, 0);
    expect(Math.abs(three.summary().max - 123.456)).toBeLessThanOrEqual(123.456 * 0.001);
    const two = new LatencyHistogram(2);
    two.record(123.456);
    expect(Math.abs(two.summary().max - 123.456)).toBeLessThanOrEqual(123.456 * 0.01);
    expect(Math.abs(two.summary().max - 123.456)).toBeGreaterThan(123.456 * 0.001);
  });

  it('records anything below a microsecond as one, and clamps what is beyond an hour', () => {
    const histogram = new LatencyHistogram();
    histogram.record(0);
    histogram.record(-5);
    expect(histogram.summary().max).toBe(0.001);
    const long = new LatencyHistogram();
    long.record(10 * 3_600_000);
    expect(long.count).toBe(1);
    expect(long.summary().max).toBeGreaterThanOrEqual(3_600_000 * 0.999);
    expect(long.summary().max).toBeLessThanOrEqual(3_600_000 * 1.001);
  });

  it('adds and subtracts other histograms, and resets', () => {
    const window = new LatencyHistogram(3);
    const a = new LatencyHistogram(3);
    const b = new LatencyHistogram(3);
    a.record(1);
    a.record(2);
    b.record(300);
    window.add(a);
    window.add(b);
    expect(window.count).toBe(3);
    near(window.summary().max, 300);
    window.subtract(b);
    expect(window.count).toBe(2);
    near(window.summary().max, 2);
    window.reset();
    expect(window.summary()).toEqual(ZERO_LATENCY);
  });

  it('adds a histogram into one of another precision with the same percentiles', () => {
    const fine = new LatencyHistogram(3);
    for (let ms = 1; ms <= 500; ms++) fine.record(ms * 1.7);
    const coarse = new LatencyHistogram(2);
    coarse.add(fine);
    expect(coarse.count).toBe(500);
    const [a, b] = [fine.summary(), coarse.summary()];
    for (const key of ['p50', 'p90', 'p99', 'max'] as const) expect(Math.abs(b[key] - a[key]) / a[key]).toBeLessThan(0.01);
  });

  it('visits only the indexes between the smallest and the largest value when adding (not all ~45 000 counts)', () => {
    const tick = new LatencyHistogram(3);
    tick.record(2);
    tick.record(2.5);
    const counts = vi.spyOn((tick as unknown as { histogram: { getCountAtIndex(i: number): number } }).histogram, 'getCountAtIndex');
    new LatencyHistogram(3).add(tick);
    expect(counts.mock.calls.length).toBeGreaterThan(0);
    expect(counts.mock.calls.length).toBeLessThan(1000);
  });

  it('visits only the indexes between the smallest and the largest value when subtracting, and its own counts not at all', () => {
    const tick = new LatencyHistogram(3);
    tick.record(2);
    tick.record(2.5);
    const window = new LatencyHistogram(3);
    window.add(tick);
    const spy = (histogram: LatencyHistogram) =>
      vi.spyOn((histogram as unknown as { histogram: { getCountAtIndex(i: number): number } }).histogram, 'getCountAtIndex');
    const taken = spy(tick);
    const own = spy(window);
    window.subtract(tick);
    expect(window.count).toBe(0);
    expect(taken.mock.calls.length).toBeGreaterThan(0);
    expect(taken.mock.calls.length).toBeLessThan(1000);
    expect(own.mock.calls.length).toBe(0);
  });

  it("keeps a histogram's occupied buckets to add and take out again, one step per bucket", () => {
    const tick = new LatencyHistogram(3);
    for (const ms of [0.001, 2, 2, 2.5, 90_000]) tick.record(ms);
    const occupied = tick.occupied();
    expect(occupied.counts).toEqual([1, 2, 1, 1]);
    const window = new LatencyHistogram(3);
    window.record(7);
    window.addCounts(occupied, 1);
    expect(window.count).toBe(6);
    window.addCounts(occupied, -1);
    const alone = new LatencyHistogram(3);
    alone.record(7);
    expect(window.count).toBe(1);
    expect(window.summary()).toEqual(alone.summary());
  });
});
