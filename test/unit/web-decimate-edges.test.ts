import { describe, expect, it } from 'vitest';
import { bucketMsFor, MinMaxDecimator, type Point } from '../../web/charts/decimate.js';

const points = (xs: number[], y: (x: number) => number = (x) => x): Point[] => xs.map((x) => ({ x, y: y(x) }));
const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) }, (_, i) => from + i * step);

/** The same line, counting how many of its points are read: the work a sync does. */
function counted(line: Point[]): { line: readonly Point[]; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(line, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { line: proxy, reads: () => reads };
}

describe('min-max decimation edges', () => {
  it('has drawn nothing before its first sync', () => {
    expect(new MinMaxDecimator().drawn).toEqual([]);
  });

  it('merges from an ideal bucket of two milliseconds on: 2 ms, not 1', () => {
    expect(bucketMsFor(450, 900)).toBe(2); // 450 ms * 4 px / 900 px = 2
    expect(bucketMsFor(449, 900)).toBe(1);
    expect(bucketMsFor(1000, 0)).toBe(2048); // no width yet: counted as one pixel
  });

  it('draws a flat bucket by its first point, and the open one also by its newest', () => {
    const decimator = new MinMaxDecimator();
    const flat = points([0, 1, 2, 3, 10, 11, 12], () => 5);
    decimator.sync(flat, 10);
    // Closed bucket [0, 10): its lowest and highest are the same first point. Open bucket [10, 20): first and newest.
    expect(decimator.drawn.map((p) => p.x)).toEqual([0, 10, 12]);
  });

  it('appending reads only what arrived, not the whole line', () => {
    const decimator = new MinMaxDecimator();
    const line = points(range(0, 3600));
    decimator.sync(line, 64);
    const longer = counted([...line, ...points([3600, 3601])]);
    decimator.sync(longer.line, 64);
    expect(longer.reads()).toBeLessThan(20);
    expect(decimator.drawn.at(-1)?.x).toBe(3601);
  });

  it('dropping whole closed buckets from the front reads only the front', () => {
    const decimator = new MinMaxDecimator();
    const line = points(range(0, 3600));
    decimator.sync(line, 64);
    const shorter = counted(line.slice(128)); // two whole buckets of 64 ms
    decimator.sync(shorter.line, 64);
    expect(shorter.reads()).toBeLessThan(20);
    expect(decimator.drawn[0]?.x).toBe(128);
  });

  it('dropping every closed bucket up to the open one reads only the front too', () => {
    const decimator = new MinMaxDecimator();
    const line = points(range(0, 1024));
    decimator.sync(line, 512); // [0, 512) closed, [512, 1024) open
    const open = counted(line.slice(512));
    decimator.sync(open.line, 512);
    expect(open.reads()).toBeLessThan(20);
    expect(decimator.drawn.map((p) => p.x)).toEqual([512, 1023]);
  });

  it('keeps the point the line now starts with when the front is cut between points', () => {
    const decimator = new MinMaxDecimator();
    const line = points(range(0, 100));
    decimator.sync(line, 1);
    decimator.sync(line.slice(1), 1);
    expect(decimator.drawn).toEqual(line.slice(1));
  });

  it('starts again when the cut reaches into the open bucket, so its lowest point is a point still held', () => {
    const decimator = new MinMaxDecimator();
    // One bucket holds the whole line; its lowest point is the first.
    const line = points([0, 1, 2, 3], (x) => (x === 0 ? -100 : x));
    decimator.sync(line, 1024);
    expect(decimator.drawn[0]?.y).toBe(-100);
    const held = [...line.slice(1), ...points([4])];
    decimator.sync(held, 1024);
    expect(decimator.drawn).toEqual([held[0], held.at(-1)]);
    // And it carries on from there.
    const more = [...held, ...points([5], () => -1)];
    decimator.sync(more, 1024);
    expect(decimator.drawn).toEqual([held.at(-1), more.at(-1)]); // highest, then the newest that is also the lowest
  });

  it('starts again when the line was replaced by one that begins after everything drawn', () => {
    const decimator = new MinMaxDecimator();
    decimator.sync(points(range(0, 50)), 8);
    const replaced = points(range(100, 140), (x) => -x);
    decimator.sync(replaced, 8);
    expect(decimator.drawn[0]).toEqual({ x: 100, y: -100 });
    expect(decimator.drawn.every((p) => p.x >= 100)).toBe(true);
  });
});
