import { createCollectors, DEFAULT_EXCLUDE_FS_TYPES, DEFAULT_EXCLUDE_INTERFACES } from '../../server/collect/index.js';
import { defaultConfig } from '../../server/config.js';
import type { LoggedEventName, PayloadOf } from '../../server/protocol.js';
import { RequestStats } from '../../server/requests/stats.js';
import { Hub } from '../../server/stream/hub.js';
import { sleep } from './procs.js';

export interface CollectorCost {
  /** The topic, or `encode + log` for the hub's share. */
  name: string;
  samples: number;
  /** CPU per call, ms (process.cpuUsage around it: user + system). */
  msPerSample: number;
  /** CPU per second of running at its cadence, ms. */
  msPerSecond: number;
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * The real collectors of server/collectors with the server's default settings, in this process, on their
 * cadences over `seconds`: CPU around each `sample()`, and around logging its event in a Hub (the JSON
 * encoding every event gets once). Cold caches as in the server: one round per second, nothing else running.
 */
export async function measureCollectorCosts(seconds: number): Promise<CollectorCost[]> {
  const config = defaultConfig();
  const requests = new RequestStats({ source: 'self' });
  const collectors = [
    ...(await createCollectors({
      intervalMs: config.intervalMs,
      filesystemIntervalMs: config.filesystemIntervalMs,
      excludeInterfaces: config.excludeInterfaces ?? DEFAULT_EXCLUDE_INTERFACES,
      excludeFsTypes: config.excludeFsTypes ?? DEFAULT_EXCLUDE_FS_TYPES,
      maxItems: config.maxItems,
      portable: false,
      dockerSocket: config.dockerSocket,
      procfs: null,
      sysfs: null,
    })),
    requests.collector(config.intervalMs),
  ];
  const hub = new Hub({ capacity: 100_000, maxAgeMs: config.historyMs });
  const totals = new Map<string, { ms: number; samples: number; cadenceMs: number }>();
  const add = (name: string, ms: number, cadenceMs: number) => {
    const total = totals.get(name) ?? { ms: 0, samples: 0, cadenceMs };
    total.ms += ms;
    total.samples++;
    totals.set(name, total);
  };
  const start = Math.ceil(Date.now() / 1000) * 1000;
  for (let tick = 0; tick < seconds; tick++) {
    await sleep(start + tick * 1000 - Date.now());
    const t = Date.now();
    for (const collector of collectors) {
      // Slow cadences sample on their first tick, as the sampler does at start. No client: idle cadences.
      const cadenceMs = collector.idleCadenceMs ?? collector.cadenceMs;
      if (tick % Math.round(cadenceMs / 1000) !== 0) continue;
      const before = cpuMs();
      const sample = await collector.sample(t);
      const sampled = cpuMs();
      add(collector.topic, sampled - before, cadenceMs);
      if (!sample) continue;
      hub.publish(collector.topic as LoggedEventName, sample as PayloadOf<LoggedEventName>);
      add('encode + log', cpuMs() - sampled, 1000 / collectors.length);
    }
  }
  for (const collector of collectors) collector.close?.();
  return [...totals].map(([name, total]) => {
    const msPerSample = total.ms / total.samples;
    return { name, samples: total.samples, msPerSample, msPerSecond: total.ms / seconds };
  });
}
