import type { RequestsSample, SampleByTopic, Topic } from '../server/protocol.js';

/**
 * The numbers each topic contributes to the time series, keyed `topic.metric`. Everything that is
 * charted over time goes through here, for live events and backfill alike; a number nothing reads is
 * not stored (`cpu.total` is read by the tests and diagnostics, through `__pulseboardDebug`).
 *
 * Most are a field of the sample as it is, named for that field: a backfill's columns of those are stored
 * as they come (`recordColumns`), without a sample rebuilt for each of its thousands of rows.
 */
export const FIELD_METRICS = {
  cpu: ['total', 'user', 'system', 'iowait'],
  memory: ['used', 'cached', 'swapUsed'],
  network: ['rx', 'tx'],
  disk: ['read', 'write'],
  filesystem: [],
  temperature: ['main', 'max'],
  processes: [],
  containers: [],
  process: ['lagP50', 'lagP99'],
} as const satisfies { [T in Exclude<Topic, 'requests'>]: readonly (keyof SampleByTopic[T] & string)[] };

/** The request rates and percentiles, computed from several fields of a requests sample. */
export function requestMetrics(s: RequestsSample) {
  const perSecond = (n: number) => (s.count > 0 ? (n * s.rate) / s.count : 0);
  // Null in a coarse history row of a fleet host whose agent sent no latency buckets: no percentile
  // (NaN is not stored), the rates still are.
  const latency = s.latency as RequestsSample['latency'] | null;
  return {
    p50: latency?.p50 ?? Number.NaN,
    p90: latency?.p90 ?? Number.NaN,
    p99: latency?.p99 ?? Number.NaN,
    '2xx': perSecond(s.status['2xx'] + s.status['1xx'] + s.status['3xx']),
    '4xx': perSecond(s.status['4xx']),
    '5xx': perSecond(s.status['5xx'] + s.status.aborted),
  };
}

type FieldTopic = keyof typeof FIELD_METRICS;

/** The metrics a topic stores: its fields in FIELD_METRICS, or what requestMetrics returns. */
export type MetricName<T extends Topic> = T extends FieldTopic
  ? (typeof FIELD_METRICS)[T][number]
  : keyof ReturnType<typeof requestMetrics> & string;

/** The fields a topic's metrics are copied from, or null when they are computed (requests). */
export function metricFields(topic: Topic): readonly string[] | null {
  return topic === 'requests' ? null : FIELD_METRICS[topic];
}

/** One sample's metrics, by name. */
export function metricsOf(topic: Topic, sample: SampleByTopic[Topic]): Record<string, number> {
  if (topic === 'requests') return requestMetrics(sample as RequestsSample);
  const metrics: Record<string, number> = {};
  for (const field of FIELD_METRICS[topic]) metrics[field] = (sample as unknown as Record<string, number>)[field] as number;
  return metrics;
}

/**
 * A store key, `topic.metric` (e.g. `cpu.user`), for every topic of the protocol and every metric stored
 * for it. Charts and the store take only these, so a key nothing stores fails to compile.
 */
export type SeriesKey = { [T in Topic]: `${T}.${MetricName<T>}` }[Topic];
