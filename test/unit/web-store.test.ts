import { describe, expect, it } from 'vitest';
import { metricsOf, requestMetrics } from '../../web/metrics.js';
import { rowsOf } from '../../web/record.js';
import { capacityFor, Ring, SeriesStore } from '../../web/store.js';

describe('web store', () => {
  it('keeps at most its capacity however many points arrive, newest last', () => {
    const ring = new Ring(3600);
    for (let i = 1; i <= 100_000; i++) ring.push(i * 1000, i);
    expect(ring.length).toBe(3600);
    expect(ring.last()).toEqual({ t: 100_000_000, value: 100_000 });
    const points = ring.pointsSince(0);
    expect(points[0]).toEqual({ x: 96_401_000, y: 96_401 });
    expect(points).toHaveLength(3600);
  });

  it('returns the points of a window', () => {
    const ring = new Ring(10);
    for (let i = 1; i <= 10; i++) ring.push(i, i * 10);
    expect(ring.pointsSince(8).map((p) => p.y)).toEqual([80, 90, 100]);
  });

  it('ignores a point that is not newer than the last: a replay overlap never folds a chart back', () => {
    const ring = new Ring(10);
    ring.push(5, 1);
    ring.push(5, 2);
    ring.push(4, 3);
    expect(ring.pointsSince(0)).toEqual([{ x: 5, y: 1 }]);
  });

  it('clears every series, and drops non-finite values', () => {
    const store = new SeriesStore(10);
    store.push('cpu.total', 1, 5);
    store.push('cpu.total', 2, Number.NaN);
    expect(store.points('cpu.total')).toBe(1);
    store.clear();
    expect(store.points('cpu.total')).toBe(0);
  });

  it('sizes the rings for the longest window at the interval, within bounds', () => {
    expect(capacityFor(3_600_000, 1000)).toBe(3601);
    expect(capacityFor(3_600_000, 20)).toBe(20_000);
    expect(capacityFor(1000, 1000)).toBe(60);
  });

  it('turns backfill columns back into samples', () => {
    const rows = rowsOf<'disk'>({ t: [1, 2], read: [10, 20], write: [0, 5] });
    expect(rows).toEqual([
      { t: 1, read: 10, write: 0 },
      { t: 2, read: 20, write: 5 },
    ]);
    expect(metricsOf('disk', rows[1] as never)).toEqual({ read: 20, write: 5 });
  });

  it("keeps a coarse requests row's rates when its latency is null (a fleet host's agent sent no buckets)", () => {
    const rows = rowsOf<'requests'>({
      t: [60_000],
      count: [120],
      rate: [2],
      status: [{ '1xx': 0, '2xx': 100, '3xx': 0, '4xx': 15, '5xx': 5, aborted: 0 }],
      latency: [null],
    } as never);
    const metrics = requestMetrics(rows[0] as never);
    expect(metrics).toMatchObject({ '2xx': 100 / 60, '4xx': 15 / 60, '5xx': 5 / 60 });
    expect(metrics.p99).toBeNaN(); // not stored: no point rather than an invented one
  });
});
