import { describe, expect, it } from 'vitest';
import { bucketMsFor, MAX_BUCKET_PX, MinMaxDecimator, type Point } from '../../web/charts/decimate.js';

const line = (from: number, to: number, value: (t: number) => number): Point[] => {
  const points: Point[] = [];
  for (let t = from; t < to; t += 1000) points.push({ x: t, y: value(t) });
  return points;
};

/** The decimation from scratch, bucket by bucket: what every incremental path must equal. */
function reference(points: Point[], bucketMs: number): Point[] {
  const buckets = new Map<number, Point[]>();
  for (const point of points) {
    const id = Math.floor(point.x / bucketMs);
    buckets.set(id, [...(buckets.get(id) ?? []), point]);
  }
  const ids = [...buckets.keys()];
  return ids.flatMap((id, i) => {
    const inBucket = buckets.get(id) as Point[];
    let min = inBucket[0] as Point;
    let max = min;
    for (const point of inBucket) {
      if (point.y < min.y) min = point;
      if (point.y > max.y) max = point;
    }
    const last = inBucket.at(-1) as Point;
    const chosen = i === ids.length - 1 ? [min, max, last] : [min, max];
    return [...new Set(chosen)].sort((a, b) => a.x - b.x);
  });
}

const wave = (t: number) => 50 + 40 * Math.sin(t / 7000) + ((t / 1000) % 3);

describe('min-max decimation of chart lines', () => {
  it('picks a power-of-two bucket of at most MAX_BUCKET_PX pixels, and no merging when points are sparse', () => {
    const bucket = bucketMsFor(3_600_000, 450);
    expect(Math.log2(bucket) % 1).toBe(0);
    expect((bucket * 450) / 3_600_000).toBeLessThanOrEqual(MAX_BUCKET_PX);
    expect((bucket * 450) / 3_600_000).toBeGreaterThan(MAX_BUCKET_PX / 2);
    expect(bucketMsFor(100, 450)).toBe(1);
  });

  it('draws each bucket as its lowest and highest real point, the newest bucket also by its newest point', () => {
    const points = line(0, 3_600_000, wave);
    const decimator = new MinMaxDecimator();
    const bucketMs = bucketMsFor(3_600_000, 450);
    decimator.rebuild(points, bucketMs);
    expect(decimator.drawn).toEqual(reference(points, bucketMs));
    expect(decimator.drawn.length).toBeLessThanOrEqual(2 * Math.ceil(3_600_000 / bucketMs) + 1);
    expect(decimator.drawn.length).toBeLessThan(points.length / 3);
    for (const point of decimator.drawn) expect(points).toContain(point); // tooltips show real samples
    expect(decimator.drawn.at(-1)).toBe(points.at(-1));
    const ys = points.map((p) => p.y);
    const drawnYs = decimator.drawn.map((p) => p.y);
    expect(Math.max(...drawnYs)).toBe(Math.max(...ys));
    expect(Math.min(...drawnYs)).toBe(Math.min(...ys));
  });

  it('follows a scrolling window point by point exactly as a decimation from scratch would', () => {
    const all = line(0, 7_200_000, wave);
    const windowPoints = 3600;
    const bucketMs = bucketMsFor(3_600_000, 450);
    const decimator = new MinMaxDecimator();
    let held = all.slice(0, windowPoints);
    decimator.sync(held, bucketMs);
    for (let end = windowPoints + 1; end <= all.length; end += 7) {
      held = all.slice(Math.max(0, end - windowPoints), end);
      decimator.sync(held, bucketMs);
    }
    // Dropping from the front cuts the oldest bucket part-way: compare what is left from the first full bucket.
    const firstFull = (Math.floor((held[0] as Point).x / bucketMs) + 1) * bucketMs;
    const fromFull = (points: Point[]) => points.filter((p) => p.x >= firstFull);
    expect(fromFull(decimator.drawn)).toEqual(fromFull(reference(held, bucketMs)));
    expect((decimator.drawn[0] as Point).x).toBeGreaterThanOrEqual((held[0] as Point).x);
  });

  it('starts again when the bucket width changes or the line is replaced', () => {
    const points = line(0, 600_000, wave);
    const decimator = new MinMaxDecimator();
    decimator.sync(points, 8192);
    decimator.sync(points, 4096);
    expect(decimator.drawn).toEqual(reference(points, 4096));
    const later = line(1_000_000, 1_600_000, wave);
    decimator.sync(later, 4096);
    expect(decimator.drawn).toEqual(reference(later, 4096));
    decimator.sync([], 4096);
    expect(decimator.drawn).toEqual([]);
  });

  it('keeps every point when each has its own bucket', () => {
    const points = line(0, 60_000, wave);
    const decimator = new MinMaxDecimator();
    decimator.sync(points, 1);
    expect(decimator.drawn).toEqual(points);
  });
});
