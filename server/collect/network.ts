import si from 'systeminformation';
import type { InterfaceRate, NetworkSample } from '../protocol.js';
import type { Collector } from './collector.js';
import { KeptOpenFile } from './procfs.js';
import { parseNetDev } from './procfs-parse.js';
import { CounterRates } from './rate.js';

export interface InterfaceFilter {
  exclude: RegExp;
  maxItems: number;
}

/**
 * The total covers every interface that passes the filter; the list keeps the busiest `maxItems`, so a
 * container host with hundreds of veths still sends a small payload.
 */
export function networkSample(t: number, rates: InterfaceRate[], filter: InterfaceFilter): NetworkSample {
  const kept = rates.filter((rate) => !filter.exclude.test(rate.name));
  let rx = 0;
  let tx = 0;
  for (const rate of kept) {
    rx += rate.rx;
    tx += rate.tx;
  }
  const busiest = [...kept].sort((a, b) => b.rx + b.tx - (a.rx + a.tx) || a.name.localeCompare(b.name)).slice(0, filter.maxItems);
  return {
    t,
    rx: Math.round(rx),
    tx: Math.round(tx),
    interfaces: busiest.map((rate) => ({ name: rate.name, rx: Math.round(rate.rx), tx: Math.round(rate.tx) })),
  };
}

export function procfsNetworkCollector(cadenceMs: number, filter: InterfaceFilter, procRoot = '/proc'): Collector<'network'> {
  const netDev = new KeptOpenFile(`${procRoot}/net/dev`);
  const counters = new CounterRates<'rx' | 'tx'>();
  const read = (t: number) => counters.update(t, parseNetDev(netDev.read()));
  read(Date.now());
  return {
    topic: 'network',
    source: 'procfs',
    cadenceMs,
    sample(t) {
      const rates = read(t);
      if (!rates) return null;
      return networkSample(
        t,
        [...rates].map(([name, rate]) => ({ name, ...rate })),
        filter,
      );
    },
    close: () => netDev.close(),
  };
}

export function portableNetworkCollector(cadenceMs: number, filter: InterfaceFilter): Collector<'network'> {
  return {
    topic: 'network',
    source: 'systeminformation',
    cadenceMs,
    async init() {
      await si.networkStats('*');
    },
    async sample(t) {
      const stats = await si.networkStats('*');
      const rates = stats.map((s) => ({ name: s.iface, rx: Math.max(0, s.rx_sec ?? 0), tx: Math.max(0, s.tx_sec ?? 0) }));
      return networkSample(t, rates, filter);
    },
  };
}
