import type { SampleByTopic, Topic } from '../server/protocol.js';

/**
 * The numbers each topic contributes to the time series, keyed `topic.metric`. Everything that is
 * charted over time goes through here, for live events and backfill alike.
 */
export const METRICS: { [T in Topic]: (sample: SampleByTopic[T]) => Record<string, number> } = {
  cpu: (s) => ({ total: s.total, user: s.user, system: s.system, iowait: s.iowait }),
  memory: (s) => ({ usedPct: s.total > 0 ? (s.used * 100) / s.total : 0, used: s.used, cached: s.cached, swapUsed: s.swapUsed }),
  network: (s) => ({ rx: s.rx, tx: s.tx }),
  disk: (s) => ({ read: s.read, write: s.write }),
  filesystem: () => ({}),
  temperature: (s) => ({ main: s.main, max: s.max }),
  processes: () => ({}),
  process: (s) => ({ rss: s.rss, heapUsed: s.heapUsed, cpu: s.cpu, lagP50: s.lagP50, lagP99: s.lagP99 }),
  requests: (s) => {
    const perSecond = (n: number) => (s.count > 0 ? (n * s.rate) / s.count : 0);
    return {
      rate: s.rate,
      inFlight: s.inFlight,
      p50: s.latency.p50,
      p90: s.latency.p90,
      p99: s.latency.p99,
      '2xx': perSecond(s.status['2xx'] + s.status['1xx'] + s.status['3xx']),
      '4xx': perSecond(s.status['4xx']),
      '5xx': perSecond(s.status['5xx'] + s.status.aborted),
    };
  },
};
