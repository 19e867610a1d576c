import type { RequestsSample, SampleByTopic, Topic } from '../server/protocol.js';

/**
 * The numbers each topic contributes to the time series, keyed `topic.metric`. Everything that is
 * charted over time goes through here, for live events and backfill alike; a number nothing reads is
 * not stored (`cpu.total` is read by the tests and diagnostics, through `__pulseboardDebug`).
 */
export const METRICS = {
  cpu: (s) => ({ total: s.total, user: s.user, system: s.system, iowait: s.iowait }),
  memory: (s) => ({ used: s.used, cached: s.cached, swapUsed: s.swapUsed }),
  network: (s) => ({ rx: s.rx, tx: s.tx }),
  disk: (s) => ({ read: s.read, write: s.write }),
  filesystem: () => ({}),
  temperature: (s) => ({ main: s.main, max: s.max }),
  processes: () => ({}),
  containers: () => ({}),
  process: (s) => ({ lagP50: s.lagP50, lagP99: s.lagP99 }),
  requests: (s) => {
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
  },
} satisfies { [T in Topic]: (sample: SampleByTopic[T]) => Record<string, number> };

/** The metrics a topic stores: the keys its entry in METRICS returns. */
export type MetricName<T extends Topic> = keyof ReturnType<(typeof METRICS)[T]> & string;

/**
 * A store key, `topic.metric` (e.g. `cpu.user`), for every topic of the protocol and every metric METRICS
 * stores for it. Charts and the store take only these, so a key nothing stores fails to compile.
 */
export type SeriesKey = { [T in Topic]: `${T}.${MetricName<T>}` }[Topic];
