import { statfs } from 'node:fs/promises';
import si from 'systeminformation';
import type { MountUsage } from '../protocol.js';
import type { Collector } from './collector.js';
import { KeptOpenFile } from './procfs.js';

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

/** `/proc/self/mounts` lines: device, mount point (octal escapes such as `\040` for a space), type. */
export function parseMounts(text: string): { fs: string; mount: string; type: string }[] {
  const decodeOctal = (field: string) =>
    field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 3)
    .map(([fs, mount, type]) => ({ fs: decodeOctal(fs as string), mount: decodeOctal(mount as string), type: type as string }));
}

/**
 * Linux: the mount table from procfs and sizes from statfs(2) on the libuv thread pool. systeminformation
 * runs `df` through execSync, which blocks the event loop and spawns processes.
 */
export function procfsFilesystemCollector(
  cadenceMs: number,
  filter: MountFilter,
  mountsPath = '/proc/self/mounts',
): Collector<'filesystem'> {
  const table = new KeptOpenFile(mountsPath);
  return {
    topic: 'filesystem',
    source: 'procfs',
    cadenceMs,
    async sample(t) {
      const candidates = parseMounts(table.read()).filter((m) => !filter.excludeTypes.test(m.type));
      const sizes = await Promise.all(
        candidates.map(async (m) => {
          try {
            const s = await statfs(m.mount);
            return { ...m, size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize };
          } catch {
            return null; // gone, or not ours to read: not a failure of the collector
          }
        }),
      );
      return {
        t,
        mounts: filterMounts(
          sizes.filter((m): m is MountUsage => m !== null),
          filter,
        ),
      };
    },
    close: () => table.close(),
  };
}

/** Filesystem usage through systeminformation (it runs `df`): the portable source, at the slow cadence only. */
export function portableFilesystemCollector(cadenceMs: number, filter: MountFilter): Collector<'filesystem'> {
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
