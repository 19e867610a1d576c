import type { HistoryResponse, HistoryTier, Topic } from '../protocol.js';
import { Merger } from './block.js';
import { columnsOf } from './block-columns.js';
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
  const everySample = choice.tier === 'raw' && choice.step === choice.tierStep;
  const series: Record<string, unknown> = {};
  const min: Record<string, unknown> = {};
  const max: Record<string, unknown> = {};
  // Raw samples merged by a few seconds: each latency percentile's mean with its min–max band (raw segments keep no per-tick buckets).
  const mergers = new Map(query.topics.map((topic) => [topic, new Merger(topic, everySample ? null : choice.step, choice.tier !== 'raw')]));
  store.eachSlice(choice.tier, query.topics, query.from, query.to, (topic, { block, start, end }) =>
    mergers.get(topic)?.add(block, start, end),
  );
  for (const [topic, merger] of mergers) {
    if (merger.length === 0) continue;
    const block = merger.block();
    const coarse = choice.tier !== 'raw';
    series[topic] = columnsOf(block, 'value', coarse);
    if (everySample) continue;
    min[topic] = columnsOf(block, 'min', coarse);
    max[topic] = columnsOf(block, 'max', coarse);
  }
  if (everySample) return { tier: 'raw', step: choice.step, series: series as SeriesOf };
  return { tier: choice.tier, step: choice.step, series: series as SeriesOf, bands: { min: min as SeriesOf, max: max as SeriesOf } };
}
