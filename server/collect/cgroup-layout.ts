import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a host's cgroup controllers are mounted under `<sysfs>/fs/cgroup`: one unified v2 tree, or v1
 * hierarchies (one per controller, as on hybrid hosts whose v2 mount holds no controllers).
 */
export type CgroupLayout =
  | { version: 2; root: string }
  | { version: 1; cpuacct: string | null; cpu: string | null; memory: string | null; blkio: string | null; pids: string | null };

const isHierarchy = (dir: string) => existsSync(join(dir, 'cgroup.procs'));

function firstHierarchy(root: string, names: string[]): string | null {
  for (const name of names) if (isHierarchy(join(root, name))) return join(root, name);
  return null;
}

/** The layout under `cgroupRoot` (normally /sys/fs/cgroup), or null when no controller we read is mounted there. */
export function detectCgroupLayout(cgroupRoot: string): CgroupLayout | null {
  if (existsSync(join(cgroupRoot, 'cgroup.controllers'))) return { version: 2, root: cgroupRoot };
  const layout = {
    version: 1 as const,
    cpuacct: firstHierarchy(cgroupRoot, ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu']),
    cpu: firstHierarchy(cgroupRoot, ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']),
    memory: firstHierarchy(cgroupRoot, ['memory']),
    blkio: firstHierarchy(cgroupRoot, ['blkio']),
    pids: firstHierarchy(cgroupRoot, ['pids']),
  };
  if (layout.cpuacct || layout.memory) return layout;
  // A host with only the v2 tree mounted beside other things (rare): use it if it has controllers.
  const unified = join(cgroupRoot, 'unified');
  return existsSync(join(unified, 'cgroup.controllers')) ? { version: 2, root: unified } : null;
}

/** Hierarchies walked to find containers: every cgroup holding a process in one of them is one. */
export function discoveryRoots(layout: CgroupLayout): string[] {
  if (layout.version === 2) return [layout.root];
  return [layout.memory, layout.cpuacct].filter((dir): dir is string => dir !== null);
}

/** Deeper than Kubernetes nests (`/kubepods.slice/<qos>.slice/<pod>.slice/<container>.scope`), with room. */
export const MAX_DEPTH = 8;
/** A bound on the directories one walk visits, so a host with runaway cgroups costs a known amount. */
export const MAX_CGROUPS = 4096;

/**
 * Every cgroup below the roots, as paths relative to its hierarchy (`/system.slice/nginx.service`);
 * the root itself is the host, not a container. Paths found in more than one hierarchy are listed once.
 */
export function listCgroups(roots: string[]): string[] {
  const found = new Set<string>();
  for (const root of roots) {
    const pending: { dir: string; path: string; depth: number }[] = [{ dir: root, path: '', depth: 0 }];
    while (pending.length > 0 && found.size < MAX_CGROUPS) {
      const { dir, path, depth } = pending.pop() as { dir: string; path: string; depth: number };
      let entries: import('node:fs').Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue; // removed while we walked
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const child = `${path}/${entry.name}`;
        found.add(child);
        if (depth + 1 < MAX_DEPTH) pending.push({ dir: join(dir, entry.name), path: child, depth: depth + 1 });
      }
    }
  }
  return [...found];
}
