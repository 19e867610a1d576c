import type { HistoryResponse, SampleByTopic, Topic } from '../server/protocol.js';
import { metricFields, metricsOf, type SeriesKey } from './metrics.js';
import { SeriesStore } from './store.js';

// Samples into the store: a live one, or a backfill's or a history answer's columns.

const SERIES_KEYS = new Map<Topic, Map<string, SeriesKey>>();

/**
 * `topic.name`, made once per metric: a backfill of an hour records every metric of thousands of rows. The
 * names are the metrics' names (`MetricName`), so each `topic.name` is a SeriesKey.
 */
function seriesKey(topic: Topic, name: string): SeriesKey {
  let keys = SERIES_KEYS.get(topic);
  if (!keys) {
    keys = new Map();
    SERIES_KEYS.set(topic, keys);
  }
  let key = keys.get(name);
  if (!key) {
    key = `${topic}.${name}` as SeriesKey;
    keys.set(name, key);
  }
  return key;
}

/** The row at `index` of one topic's columns. */
function rowAt<T extends Topic>(columns: Record<string, unknown[]>, keys: string[], index: number): SampleByTopic[T] {
  const row: Record<string, unknown> = {};
  for (const key of keys) row[key] = (columns[key] as unknown[])[index];
  return row as unknown as SampleByTopic[T];
}

const rowCount = (columns: Record<string, unknown[]>): number => (columns.t as unknown[] | undefined)?.length ?? 0;

/** Rows of one topic from the backfill's columns. */
export function rowsOf<T extends Topic>(columns: Record<string, unknown[]>): SampleByTopic[T][] {
  const keys = Object.keys(columns);
  const rows: SampleByTopic[T][] = [];
  for (let i = 0; i < rowCount(columns); i++) rows.push(rowAt<T>(columns, keys, i));
  return rows;
}

/** The newest row of one topic's columns (what its panel shows), or null when they hold none. */
export function lastRowOf<T extends Topic>(columns: Record<string, unknown[]>): SampleByTopic[T] | null {
  const count = rowCount(columns);
  return count === 0 ? null : rowAt<T>(columns, Object.keys(columns), count - 1);
}

/** One sample's metrics into the store. */
export function recordSample(store: SeriesStore, topic: Topic, sample: SampleByTopic[Topic]): void {
  const metrics = metricsOf(topic, sample);
  for (const name in metrics) store.push(seriesKey(topic, name), sample.t, metrics[name] as number);
}

/**
 * One topic's columns into the store, holding what `recordSample` of each row would: a metric that is a
 * field is stored column by column (no row made for it); computed ones (requests) row by row.
 */
export function recordColumns(store: SeriesStore, topic: Topic, columns: Record<string, unknown[]>): void {
  const fields = metricFields(topic);
  if (fields) {
    const times = columns.t ?? [];
    for (const field of fields) store.pushColumn(seriesKey(topic, field), times, columns[field] ?? []);
    return;
  }
  for (const row of rowsOf(columns)) {
    try {
      recordSample(store, topic, row);
    } catch {
      // A row without a number a chart needs (written before that number existed): not drawn.
    }
  }
}

/** A store of `capacity` points a metric holding every topic of a history answer's series (its means, mins or maxes). */
export function storeOfSeries(series: HistoryResponse['series'], capacity: number): SeriesStore {
  const store = new SeriesStore(capacity);
  for (const [topic, columns] of Object.entries(series) as [Topic, Record<string, unknown[]>][]) recordColumns(store, topic, columns);
  return store;
}
