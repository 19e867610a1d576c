import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capacityFor, Ring, SeriesStore } from '../../web/store.js';

describe('ring of points (the page)', () => {
  it('is empty at first', () => {
    const ring = new Ring(4);
    expect(ring.length).toBe(0);
    expect(ring.last()).toBeNull();
    expect(ring.firstTime()).toBe(Number.POSITIVE_INFINITY);
    expect(ring.pointsSince(0)).toEqual([]);
    expect(ring.pointsAfter(0)).toEqual([]);
  });

  it('knows its oldest time and newest point as it wraps', () => {
    const ring = new Ring(3);
    ring.push(10, 1);
    expect(ring.firstTime()).toBe(10);
    expect(ring.last()).toEqual({ t: 10, value: 1 });
    for (let t = 20; t <= 50; t += 10) ring.push(t, t / 10);
    expect(ring.length).toBe(3);
    expect(ring.firstTime()).toBe(30);
    expect(ring.last()).toEqual({ t: 50, value: 5 });
    expect(ring.pointsSince(0)).toEqual([
      { x: 30, y: 3 },
      { x: 40, y: 4 },
      { x: 50, y: 5 },
    ]);
  });

  it('lists the points after a time, oldest first, across the wrap', () => {
    const ring = new Ring(4);
    for (let t = 1; t <= 6; t++) ring.push(t, t * 10);
    expect(ring.pointsAfter(4)).toEqual([
      { x: 5, y: 50 },
      { x: 6, y: 60 },
    ]);
    expect(ring.pointsAfter(6)).toEqual([]);
    expect(ring.pointsAfter(0).map((p) => p.x)).toEqual([3, 4, 5, 6]);
    expect(ring.pointsSince(4).map((p) => p.x)).toEqual([4, 5, 6]);
  });

  it('starts again from empty once cleared', () => {
    const ring = new Ring(3);
    for (let t = 1; t <= 5; t++) ring.push(t, t);
    ring.clear();
    expect(ring.length).toBe(0);
    ring.push(2, 7);
    expect(ring.pointsSince(0)).toEqual([{ x: 2, y: 7 }]);
    expect(ring.firstTime()).toBe(2);
  });

  it('takes a point newer than the last only', () => {
    const ring = new Ring(3);
    ring.push(5, 1);
    ring.push(6, 2);
    ring.push(6, 3);
    ring.push(1, 4);
    expect(ring.pointsSince(0)).toEqual([
      { x: 5, y: 1 },
      { x: 6, y: 2 },
    ]);
  });
});

describe('series store (the page)', () => {
  it('keeps one ring per series, made on first use, of the store capacity', () => {
    const store = new SeriesStore(5);
    expect(store.find('cpu.total')).toBeUndefined();
    expect(store.points('cpu.total')).toBe(0);
    const ring = store.ring('cpu.total');
    expect(store.ring('cpu.total')).toBe(ring);
    expect(ring.capacity).toBe(5);
    store.push('cpu.total', 1, 3);
    store.push('memory.used', 1, 4);
    expect(store.find('cpu.total')).toBe(ring);
    expect(store.points('cpu.total')).toBe(1);
    expect(store.points('memory.used')).toBe(1);
  });

  it('leaves out numbers that are not finite', () => {
    const store = new SeriesStore(5);
    store.push('cpu.total', 1, Number.POSITIVE_INFINITY);
    store.push('cpu.total', 2, Number.NEGATIVE_INFINITY);
    store.push('cpu.total', 3, Number.NaN);
    expect(store.points('cpu.total')).toBe(0);
    store.push('cpu.total', 4, 0);
    expect(store.points('cpu.total')).toBe(1);
  });

  it('sizes rings for the window at the interval: at least 60 points, at most 20 000', () => {
    expect(capacityFor(60_000, 1000)).toBe(61);
    expect(capacityFor(59_000, 1000)).toBe(60);
    expect(capacityFor(10_000, 1)).toBe(10_001);
    expect(capacityFor(3_600_000, 0)).toBe(20_000);
    expect(capacityFor(19_999, 1)).toBe(20_000);
    expect(capacityFor(3_600_500, 1000)).toBe(3602);
    expect(capacityFor(100, 0.5)).toBe(101); // an interval below 1 ms counts as 1 ms
  });

  it('puts older points in front of what it holds: as if every point had come in time order, the held ones kept where both have a time', () => {
    const times = fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 60 }).map((list) => list.sort((a, b) => a - b));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), times, times, (capacity, heldTimes, olderTimes) => {
        const held = new Ring(capacity);
        for (const t of heldTimes) held.push(t, t + 0.5);
        const older = new Ring(capacity);
        for (const t of olderTimes) older.push(t, -t);
        const kept = held.pointsSince(Number.NEGATIVE_INFINITY);
        const first = held.firstTime();

        // Brute force: the older points from before the first held one, then the held ones, pushed one by one.
        const expected = new Ring(capacity);
        for (const { x, y } of older.pointsSince(Number.NEGATIVE_INFINITY)) if (x < first) expected.push(x, y);
        for (const { x, y } of kept) expected.push(x, y);

        held.prepend(older);
        expect(held.pointsSince(Number.NEGATIVE_INFINITY)).toEqual(expected.pointsSince(Number.NEGATIVE_INFINITY));
        expect(held.length).toBe(Math.min(capacity, expected.length));
        // What was held is all still there, newest last: it fitted the capacity before.
        expect(held.pointsSince(Number.NEGATIVE_INFINITY).slice(held.length - kept.length)).toEqual(kept);
      }),
      { numRuns: 300 },
    );
  });

  it('puts each ring of an older store in front of the same key’s, and makes a ring for a key it did not hold', () => {
    const store = new SeriesStore(10);
    store.push('cpu.total', 50, 5);
    const older = new SeriesStore(10);
    older.push('cpu.total', 10, 1);
    older.push('cpu.total', 50, 99);
    older.push('memory.used', 10, 7);
    store.prepend(older);
    expect(store.find('cpu.total')?.pointsSince(0)).toEqual([
      { x: 10, y: 1 },
      { x: 50, y: 5 },
    ]);
    expect(store.find('memory.used')?.pointsSince(0)).toEqual([{ x: 10, y: 7 }]);
  });
});
