import { readdirSync } from 'node:fs';
import si from 'systeminformation';
import type { Collector } from './collector.js';
import { KeptOpenFile } from './procfs.js';
import { parseDiskstats } from './procfs-parse.js';
import { CounterRates } from './rate.js';

const VIRTUAL_DEVICE = /^(loop|ram|zram|dm-|md|sr|fd|nbd)/;

/**
 * Whole physical devices only: partitions and device-mapper volumes repeat the bytes of the disk they
 * sit on. /sys/block lists whole devices (no partitions).
 */
export function physicalDevices(sysBlock = '/sys/block'): Set<string> {
  try {
    return new Set(readdirSync(sysBlock).filter((name) => !VIRTUAL_DEVICE.test(name)));
  } catch {
    return new Set();
  }
}

export function procfsDiskCollector(cadenceMs: number, procRoot = '/proc', sysBlock = '/sys/block'): Collector<'disk'> {
  const diskstats = new KeptOpenFile(`${procRoot}/diskstats`);
  const devices = physicalDevices(sysBlock);
  const counters = new CounterRates<'read' | 'write'>();
  const read = (t: number) => {
    const all = parseDiskstats(diskstats.read());
    const physical = new Map([...all].filter(([name]) => devices.has(name)));
    return counters.update(t, physical);
  };
  read(Date.now());
  return {
    topic: 'disk',
    source: 'procfs',
    cadenceMs,
    sample(t) {
      const rates = read(t);
      if (!rates) return null;
      let readBytes = 0;
      let writeBytes = 0;
      for (const rate of rates.values()) {
        readBytes += rate.read;
        writeBytes += rate.write;
      }
      return { t, read: Math.round(readBytes), write: Math.round(writeBytes) };
    },
    close: () => diskstats.close(),
  };
}

/** systeminformation's fsStats gives bytes per second read (rx_sec) and written (wx_sec). */
export function portableDiskCollector(cadenceMs: number): Collector<'disk'> {
  return {
    topic: 'disk',
    source: 'systeminformation',
    cadenceMs,
    async init() {
      await si.fsStats();
    },
    async sample(t) {
      const stats = await si.fsStats();
      return { t, read: Math.max(0, Math.round(stats.rx_sec ?? 0)), write: Math.max(0, Math.round(stats.wx_sec ?? 0)) };
    },
  };
}
