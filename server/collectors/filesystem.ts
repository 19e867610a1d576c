import si from 'systeminformation';
import type { MountUsage } from '../protocol.js';
import type { Collector } from './collector.js';

export interface MountFilter {
  excludeTypes: RegExp;
  maxItems: number;
}

/** Drops virtual filesystems and repeated devices (bind mounts), keeps the largest `maxItems`. */
export function filterMounts(mounts: MountUsage[], filter: MountFilter): MountUsage[] {
  const seen = new Set<string>();
  const kept: MountUsage[] = [];
  for (const mount of [...mounts].sort((a, b) => a.mount.length - b.mount.length)) {
    if (filter.excludeTypes.test(mount.type) || mount.size <= 0 || seen.has(mount.fs)) continue;
    seen.add(mount.fs);
    kept.push(mount);
  }
  return kept.sort((a, b) => b.size - a.size || a.mount.localeCompare(b.mount)).slice(0, filter.maxItems);
}

/** Filesystem usage through systeminformation (it runs `df`): fine at the slow cadence, never at 1 Hz. */
export function filesystemCollector(cadenceMs: number, filter: MountFilter): Collector<'filesystem'> {
  return {
    topic: 'filesystem',
    source: 'systeminformation',
    cadenceMs,
    async sample(t) {
      const sizes = await si.fsSize();
      const mounts = sizes.map((s) => ({
        mount: s.mount,
        fs: s.fs,
        type: s.type,
        size: Math.max(0, s.size || 0),
        used: Math.max(0, s.used || 0),
      }));
      return { t, mounts: filterMounts(mounts, filter) };
    },
  };
}
