import type { HistoryResponse, HistoryTier, Topic } from '../protocol.js';
import { type Block, Merger, rowsWithin } from './block.js';
import { columnsOf } from './block-columns.js';
import type { HistoryStore } from './store.js';
import { chooseTier, TIER_STEP_MS } from './tiers.js';
import { UnitCache, type UnitColumns } from './unit-cache.js';

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

/**
 * Buckets per unit: a downsampled answer is made of units of this many buckets (aligned to the epoch), and
 * the units that lie whole in the range and in sealed hours are kept as columns (`UnitCache`). A warm
 * query then merges at most two partial units at its edges and the open hour.
 */
export const UNIT_BUCKETS = 16;

/** Rows of [from, to] of each topic merged into buckets of `step` (null: the topic has no rows there). */
function mergedBlocks(
  store: HistoryStore,
  tier: HistoryTier,
  step: number | null,
  topics: readonly Topic[],
  from: number,
  to: number,
): Map<Topic, Block | null> {
  // Raw samples merged by a few seconds: each latency percentile's mean with its min–max band (raw segments keep no per-tick buckets).
  const mergers = new Map(topics.map((topic) => [topic, new Merger(topic, step, tier !== 'raw')]));
  store.eachSlice(tier, topics, from, to, (topic, { block, start, end }) => mergers.get(topic)?.add(block, start, end));
  return new Map([...mergers].map(([topic, merger]) => [topic, merger.length === 0 ? null : merger.block()]));
}

/** A merged block's rows [start, end) as a block of their own (views of its columns; latency offsets still index its buckets). */
function rowsOf(block: Block, start: number, end: number): Block {
  if (start === 0 && end === block.length) return block;
  return {
    ...block,
    length: end - start,
    t: block.t.subarray(start, end),
    n: block.n.subarray(start, end),
    value: block.value.map((column) => column.subarray(start, end)),
    min: block.min?.map((column) => column.subarray(start, end)) ?? null,
    max: block.max?.map((column) => column.subarray(start, end)) ?? null,
    others: new Map([...block.others].map(([key, values]) => [key, values.slice(start, end)])),
    buckets: block.buckets && { ...block.buckets, offsets: block.buckets.offsets.subarray(start, end + 1) },
  };
}

/** The answer's columns of a merged block's rows within [from, to] (null: none). */
function columnsWithin(
  block: Block | null | undefined,
  from: number,
  to: number,
  everySample: boolean,
  coarse: boolean,
): UnitColumns | null {
  if (!block) return null;
  const [start, end] = rowsWithin(block, from, to);
  if (start >= end) return null;
  const rows = rowsOf(block, start, end);
  const value = columnsOf(rows, 'value', coarse);
  return everySample
    ? { value, min: value, max: value }
    : { value, min: columnsOf(rows, 'min', coarse), max: columnsOf(rows, 'max', coarse) };
}

/** Columns of consecutive pieces as one: a key a piece lacks is null in its rows (as a row without the path is). */
function joined(pieces: readonly Record<string, unknown[]>[]): Record<string, unknown[]> {
  if (pieces.length === 1) return pieces[0] as Record<string, unknown[]>;
  const keys = new Set<string>();
  for (const piece of pieces) for (const key of Object.keys(piece)) keys.add(key);
  const result: Record<string, unknown[]> = {};
  for (const key of keys) {
    const columns = pieces.map((piece) => piece[key] ?? new Array((piece.t as unknown[]).length).fill(null));
    result[key] = ([] as unknown[]).concat(...columns);
  }
  return result;
}

/**
 * The range cut where the answer's units start: [first row's time, first unit), the units, [last unit's
 * end, to]. A unit is kept when it lies whole in the range and in sealed hours.
 */
function piecesOf(first: number, to: number, unit: number, sealedEnd: number): { from: number; to: number; kept: boolean }[] {
  const pieces: { from: number; to: number; kept: boolean }[] = [];
  let start = first;
  let unitStart = Math.ceil(first / unit) * unit;
  if (unitStart > start) {
    pieces.push({ from: start, to: Math.min(to, unitStart - 1), kept: false });
    start = unitStart;
  }
  while (unitStart + unit - 1 <= to && unitStart + unit <= sealedEnd) {
    pieces.push({ from: unitStart, to: unitStart + unit - 1, kept: true });
    unitStart += unit;
    start = unitStart;
  }
  if (start <= to) pieces.push({ from: start, to, kept: false });
  return pieces;
}

/** Answers a range from the store: the tier that fits, merged further when it would still be too many rows. */
export function queryRange(store: HistoryStore, query: RangeQuery, intervalMs: number, now: number): RangeAnswer {
  const choice = chooseTier(query.from, query.to, query.points, intervalMs, store.retention, now);
  const everySample = choice.tier === 'raw' && choice.step === choice.tierStep;
  const step = everySample ? null : choice.step;
  const tierStep = choice.tier === 'raw' ? 1 : TIER_STEP_MS[choice.tier];
  // The first row a query takes (as `eachSlice`): from, or the oldest the tier keeps, on the tier's step.
  const first = Math.floor(Math.max(query.from, now - store.retention[choice.tier]) / tierStep) * tierStep;
  // Units are kept for ranges that reach the open hour: the windows ending now that a page asks again and
  // again. A range wholly in the past (a zoom, a move back in time) is merged in one pass and keeps nothing:
  // it is asked once (the same request again is a kept answer in http/history.ts), so its units would only hold memory.
  const keep = step !== null && first <= query.to && query.to >= store.sealedEnd;
  const pieces = keep ? piecesOf(first, query.to, step * UNIT_BUCKETS, store.sealedEnd) : [{ from: query.from, to: query.to, kept: false }];
  const byTopic = new Map<Topic, UnitColumns[]>(query.topics.map((topic) => [topic, []]));
  const add = (topic: Topic, columns: UnitColumns | null | undefined) => {
    if (columns) byTopic.get(topic)?.push(columns);
  };
  const coarse = choice.tier !== 'raw';
  const key = (topic: Topic, unit: number) => UnitCache.key(choice.tier, choice.step, topic, unit);
  // The kept units first (taken out before any is added: adding may push older ones out), then every missing
  // one merged in one pass over the rows from the first to the last of them, and cut into units.
  const known = new Map<number, Map<Topic, UnitColumns | null | undefined>>();
  let missingFrom = Number.POSITIVE_INFINITY;
  let missingTo = Number.NEGATIVE_INFINITY;
  const missingTopics = new Set<Topic>();
  for (const piece of pieces) {
    if (!piece.kept) continue;
    const units = new Map(query.topics.map((topic) => [topic, store.units.get(key(topic, piece.from))]));
    known.set(piece.from, units);
    for (const [topic, columns] of units) {
      if (columns !== undefined) continue;
      missingTopics.add(topic);
      missingFrom = Math.min(missingFrom, piece.from);
      missingTo = Math.max(missingTo, piece.to);
    }
  }
  const fresh = missingTopics.size > 0 ? mergedBlocks(store, choice.tier, step, [...missingTopics], missingFrom, missingTo) : null;
  for (const piece of pieces) {
    if (!piece.kept) {
      const blocks = mergedBlocks(store, choice.tier, step, query.topics, piece.from, piece.to);
      // Every row: the first bucket starts before `from` when `from` is not on the step.
      for (const topic of query.topics)
        add(topic, columnsWithin(blocks.get(topic), Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, everySample, coarse));
      continue;
    }
    for (const [topic, kept] of known.get(piece.from) ?? []) {
      if (kept !== undefined) {
        add(topic, kept);
        continue;
      }
      const columns = columnsWithin(fresh?.get(topic), piece.from, piece.to, everySample, coarse);
      store.units.set(key(topic, piece.from), columns);
      add(topic, columns);
    }
  }
  const series: Record<string, unknown> = {};
  const min: Record<string, unknown> = {};
  const max: Record<string, unknown> = {};
  for (const [topic, parts] of byTopic) {
    if (parts.length === 0) continue;
    series[topic] = joined(parts.map((part) => part.value));
    if (everySample) continue;
    min[topic] = joined(parts.map((part) => part.min));
    max[topic] = joined(parts.map((part) => part.max));
  }
  if (everySample) return { tier: 'raw', step: choice.step, series: series as SeriesOf };
  return { tier: choice.tier, step: choice.step, series: series as SeriesOf, bands: { min: min as SeriesOf, max: max as SeriesOf } };
}
