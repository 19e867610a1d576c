import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Topic } from '../../server/protocol.js';
import { FIELD_METRICS } from '../../web/metrics.js';
import { lastRowOf, recordColumns, recordSample, rowsOf } from '../../web/record.js';
import { SeriesStore } from '../../web/store.js';

/** Every series of a store as plain arrays: what a chart would read. */
function contents(store: SeriesStore, keys: string[]): Record<string, [number, number][]> {
  const held: Record<string, [number, number][]> = {};
  for (const key of keys) {
    const ring = store.find(key);
    held[key] = ring ? ring.pointsSince(Number.NEGATIVE_INFINITY).map((point) => [point.x, point.y]) : [];
  }
  return held;
}

const FIELD_TOPICS = Object.keys(FIELD_METRICS) as (keyof typeof FIELD_METRICS)[];

/** A value as a backfill column may hold it: a number, a gap (null), or something a chart cannot draw. */
const cell = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e9, max: 1e9, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 'x', undefined) },
);

describe('recording a backfill', () => {
  it('stores a topic column by column exactly as row by row (fast-check: 300 backfills)', () => {
    const backfill = fc.record({
      topic: fc.constantFrom(...FIELD_TOPICS),
      // Times mostly rising, with repeats and steps back (a replay overlap): the ring keeps only newer ones.
      times: fc.array(fc.integer({ min: -2, max: 1000 }), { maxLength: 60 }),
      seed: fc.array(cell, { minLength: 60, maxLength: 60 }),
      dropField: fc.boolean(),
    });
    fc.assert(
      fc.property(backfill, ({ topic, times, seed, dropField }) => {
        let t = 1_000_000;
        const columns: Record<string, unknown[]> = { t: times.map((step) => (t += step)) };
        FIELD_METRICS[topic].forEach((field, f) => {
          if (dropField && f === 0) return; // a row written before that field existed
          columns[field] = times.map((_, i) => seed[(i + f * 7) % seed.length]);
        });
        const keys = FIELD_METRICS[topic].map((field) => `${topic}.${field}`);
        const byColumn = new SeriesStore(40);
        recordColumns(byColumn, topic, columns);
        const byRow = new SeriesStore(40);
        for (const row of rowsOf(columns)) recordSample(byRow, topic as Topic, row);
        expect(contents(byColumn, keys)).toEqual(contents(byRow, keys));
      }),
      { numRuns: 300 },
    );
  });

  it('stores requests row by row, and skips a row it cannot read rather than stopping', () => {
    const status = { '1xx': 0, '2xx': 50, '3xx': 0, '4xx': 5, '5xx': 5, aborted: 0 };
    const store = new SeriesStore(10);
    recordColumns(store, 'requests', {
      t: [1000, 2000, 3000],
      count: [60, 60, 60],
      rate: [1, 1, 1],
      status: [status, undefined, status],
      latency: [{ p50: 1, p90: 2, p99: 3 }, null, { p50: 4, p90: 5, p99: 6 }],
    });
    expect(contents(store, ['requests.p99', 'requests.4xx'])).toEqual({
      'requests.p99': [
        [1000, 3],
        [3000, 6],
      ],
      'requests.4xx': [
        [1000, 5 / 60],
        [3000, 5 / 60],
      ],
    });
  });

  it('gives each panel the newest row of its columns, and none for empty columns', () => {
    expect(lastRowOf({ t: [1, 2], read: [10, 20], write: [0, 5] })).toEqual({ t: 2, read: 20, write: 5 });
    expect(lastRowOf({ t: [], read: [] })).toBeNull();
    expect(lastRowOf({})).toBeNull();
  });
});
