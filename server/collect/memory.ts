import si from 'systeminformation';
import type { MemorySample } from '../protocol.js';
import type { Collector } from './collector.js';
import { KeptOpenFile } from './procfs.js';
import { parseMeminfo } from './procfs-parse.js';

/** MemorySample from /proc/meminfo fields (bytes). `used` is what applications hold: total - available. */
export function memoryFromMeminfo(t: number, fields: Map<string, number>): MemorySample {
  const get = (name: string) => fields.get(name) ?? 0;
  const total = get('MemTotal');
  if (total === 0) throw new Error('/proc/meminfo has no MemTotal');
  const available = fields.has('MemAvailable') ? get('MemAvailable') : get('MemFree') + get('Buffers') + get('Cached');
  return {
    t,
    total,
    used: Math.max(0, total - available),
    available,
    cached: get('Cached') + get('SReclaimable'),
    buffers: get('Buffers'),
    swapTotal: get('SwapTotal'),
    swapUsed: Math.max(0, get('SwapTotal') - get('SwapFree')),
  };
}

export function procfsMemoryCollector(cadenceMs: number, procRoot = '/proc'): Collector<'memory'> {
  const meminfo = new KeptOpenFile(`${procRoot}/meminfo`);
  return {
    topic: 'memory',
    source: 'procfs',
    cadenceMs,
    sample: (t) => memoryFromMeminfo(t, parseMeminfo(meminfo.read())),
    close: () => meminfo.close(),
  };
}

export function portableMemoryCollector(cadenceMs: number): Collector<'memory'> {
  return {
    topic: 'memory',
    source: 'systeminformation',
    cadenceMs,
    async sample(t) {
      const m = await si.mem();
      return {
        t,
        total: m.total,
        used: Math.max(0, m.total - m.available),
        available: m.available,
        cached: m.cached + m.slab,
        buffers: m.buffers,
        swapTotal: m.swaptotal,
        swapUsed: m.swapused,
      };
    },
  };
}
