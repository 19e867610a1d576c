import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DirectoryWatches, type WatchDirectory } from './cgroup-watch.js';

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

/**
 * The hierarchy walked to find containers: the v2 tree, or on v1 the memory hierarchy (where Docker,
 * Kubernetes and systemd's accounting put every container), else cpuacct.
 */
export function discoveryRoot(layout: CgroupLayout): string | null {
  if (layout.version === 2) return layout.root;
  return layout.memory ?? layout.cpuacct;
}

/**
 * Every this many samples (60 s at the 5 s cadence, cAdvisor's longest housekeeping interval) a container is
 * read in full even when nothing says it changed: its limits (CPU quota, memory limit), which seldom change;
 * its other counters when it used no CPU since the last sample; its directory for new child cgroups.
 */
export const FULL_READ_EVERY = 12;

/** Deeper than Kubernetes nests (`/kubepods.slice/<qos>.slice/<pod>.slice/<container>.scope`), with room. */
export const MAX_DEPTH = 8;
/** A bound on the directories one walk visits, so a host with runaway cgroups costs a known amount. */
export const MAX_CGROUPS = 4096;
const NO_CHILDREN: readonly string[] = [];

/**
 * Lists every cgroup below a root, as paths relative to it (`/system.slice/nginx.service`); the root itself
 * is the host, not a container. Listing a directory is most of the walk's cost (each holds dozens of control
 * files), so each directory listed is watched (`DirectoryWatches`) and listed again only when a child cgroup
 * was made or removed in it; while nothing changed, a walk is the last walk's list again.
 *
 * Where a watch cannot be set, a directory that had no child cgroup last time is listed again only when its
 * link count says it has one now: a directory's link count is 2 plus its subdirectories (kernfs keeps it so,
 * as Unix file systems do), and one stat is much cheaper than a listing. Such a leaf the caller calls settled
 * (a container that runs processes, where new child cgroups are rare) is not even stat'ed but on every
 * FULL_READ_EVERY-th walk; an empty leaf (a Kubernetes pod before its containers start) is stat'ed every walk.
 * Every FULL_READ_EVERY-th walk also walks as if nothing were watched, in case an event was lost.
 */
export class CgroupWalker {
  /** Each directory the last walk visited, with its child cgroups (paths) as last listed. */
  private children = new Map<string, readonly string[]>();
  private found: string[] = [];
  private walks = 0;
  /** `watches.changes` when the last walk ended, and whether it visited a directory it could not watch. */
  private changesSeen = -1;
  private visitedUnwatched = true;
  private readonly watches: DirectoryWatches;

  constructor(
    private readonly root: string,
    watchDirectory?: WatchDirectory,
  ) {
    this.watches = new DirectoryWatches(watchDirectory);
  }

  /** Every cgroup found; the same array as the last walk's while nothing changed (callers only read it). */
  walk(settled: (path: string) => boolean = () => false): string[] {
    const checkEveryLeaf = this.walks++ % FULL_READ_EVERY === 0;
    if (!checkEveryLeaf && !this.visitedUnwatched && this.watches.changes === this.changesSeen) return this.found;
    const found: string[] = [];
    const children = new Map<string, readonly string[]>();
    let visitedUnwatched = false;
    const pending: { path: string; depth: number }[] = [{ path: '', depth: 0 }];
    while (pending.length > 0 && found.length < MAX_CGROUPS) {
      const { path, depth } = pending.pop() as { path: string; depth: number };
      let below = checkEveryLeaf ? undefined : this.unchangedChildren(path);
      if (below === undefined) {
        const dir = `${this.root}${path}`;
        // A leaf is not listed again where it cannot be watched, nor (on the walk that checks every leaf) while
        // its watch saw no change, unless its link count says it has a child cgroup now (see the class).
        const skipLeaf =
          this.children.get(path)?.length === 0 &&
          (this.watches.unwatchable(path) || (checkEveryLeaf && this.watches.unchanged(path))) &&
          ((!checkEveryLeaf && settled(path)) || !hasSubdirectories(dir));
        if (skipLeaf) {
          below = NO_CHILDREN;
        } else {
          const listed = this.list(path, dir);
          if (listed === null) continue; // removed while we walked
          below = listed;
        }
        if (!this.watches.unchanged(path)) visitedUnwatched = true;
      }
      children.set(path, below);
      for (const child of below) {
        found.push(child);
        if (depth + 1 < MAX_DEPTH) pending.push({ path: child, depth: depth + 1 });
      }
    }
    this.children = children;
    this.found = found;
    this.watches.keepOnly(children);
    this.changesSeen = this.watches.changes;
    this.visitedUnwatched = visitedUnwatched;
    return found;
  }

  /** Stops watching. */
  close(): void {
    this.watches.close();
  }

  /** A watched directory's child cgroups as last listed, while none was made or removed; else undefined. */
  private unchangedChildren(path: string): readonly string[] | undefined {
    return this.watches.unchanged(path) ? this.children.get(path) : undefined;
  }

  /**
   * A directory's child cgroups, watched (where it can be) from just before it is listed; null when it is gone.
   * Listed after an event in it, each watched child's inode is checked: one of them may have been removed and
   * made again (see DirectoryWatches).
   */
  private list(path: string, dir: string): string[] | null {
    const afterEvent = this.watches.changed(path);
    this.watches.listing(path, dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    const children: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const child = `${path}/${entry.name}`;
      children.push(child);
      if (afterEvent) this.watches.forgetIfReplaced(child, `${dir}/${entry.name}`);
    }
    return children;
  }
}

/** A directory's link count is 2 (itself and `.`) plus one per subdirectory's `..`; a stat that fails says list it. */
function hasSubdirectories(dir: string): boolean {
  try {
    return statSync(dir).nlink > 2;
  } catch {
    return true;
  }
}
