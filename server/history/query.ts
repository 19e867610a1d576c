import type { HistoryResponse, HistoryTier, Topic } from '../protocol.js';
import { toColumns } from '../stream/columns.js';
import { type Aggregate, present, rollup, rollupRaw } from './rollup.js';
import type { HistoryStore } from './store.js';
import { chooseTier } from './tiers.js';

export interface RangeQuery {
  topics: readonly Topic[];
  from: number;
  to: number;
  /** The most rows per topic the client wants (about two per pixel of its chart). */
  points: number;
}

type SeriesOf = HistoryResponse['series'];

/** Rows rebuilt in a topic's sample shape (the store's flattening round-trips it), as that topic's columns. */
function put(series: SeriesOf, topic: Topic, rows: object[]): void {
  (series as Record<string, unknown>)[topic] = toColumns(rows);
}

export interface RangeAnswer {
  tier: HistoryTier;
  /** ms between rows: the tier's step, or a whole multiple of it. */
  step: number;
  /** The samples (raw), or each bucket's mean (counts and bytes summed, latency percentiles of the merged histograms). */
  series: SeriesOf;
  /** Downsampled rows only: each bucket's minimum and maximum, same shape. */
  bands?: { min: SeriesOf; max: SeriesOf };
}

/** Answers a range from the store: the tier that fits, merged further when it would still be too many rows. */
export function queryRange(store: HistoryStore, query: RangeQuery, intervalMs: number, now: number): RangeAnswer {
  const choice = chooseTier(query.from, query.to, query.points, intervalMs, store.retention, now);
  const series: SeriesOf = {};
  if (choice.tier === 'raw' && choice.step === choice.tierStep) {
    for (const topic of query.topics) {
      const rows = store.raw(topic, query.from, query.to);
      if (rows.length > 0)
        put(
          series,
          topic,
          rows.map((row) => row.sample),
        );
    }
    return { tier: 'raw', step: choice.step, series };
  }
  const min: SeriesOf = {};
  const max: SeriesOf = {};
  for (const topic of query.topics) {
    let rows: Aggregate[];
    if (choice.tier === 'raw') rows = rollupRaw(store.raw(topic, query.from, query.to), choice.step);
    else {
      rows = store.aggregates(choice.tier, topic, query.from, query.to);
      if (choice.step !== choice.tierStep) rows = rollup(rows, choice.step);
    }
    if (rows.length === 0) continue;
    const shown = rows.map((row) => present(topic, row));
    put(
      series,
      topic,
      shown.map((row) => row.mean),
    );
    put(
      min,
      topic,
      shown.map((row) => row.min),
    );
    put(
      max,
      topic,
      shown.map((row) => row.max),
    );
  }
  return { tier: choice.tier, step: choice.step, series, bands: { min, max } };
}
