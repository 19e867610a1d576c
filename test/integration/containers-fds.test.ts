import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCgroupLayout } from '../../server/collect/cgroup-layout.js';
import { cgroupContainersCollector } from '../../server/collect/containers.js';
import { OptionalFile } from '../../server/collect/optional-file.js';
import { betweenSamples, removeWhenEmpty } from '../helpers/cgroups.js';

const PREFIX = `pulseboard-fds-${process.pid}`;

/** Every hierarchy the collector reads on this host (v1 controllers, or the one v2 tree), or why the test cannot run. */
function hierarchies(): { dirs: string[] } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to make cgroups' };
  const layout = detectCgroupLayout('/sys/fs/cgroup');
  if (!layout) return { skip: 'no cgroup controllers mounted under /sys/fs/cgroup' };
  if (layout.version === 2) return { dirs: [layout.root] };
  return { dirs: [layout.cpuacct, layout.cpu, layout.memory, layout.blkio, layout.pids].filter((d): d is string => d !== null) };
}

const found = hierarchies();
if ('skip' in found) console.log(`containers-fds.test.ts skipped: ${found.skip}`);

/** How many of this process's descriptors are open on a file whose path passes `test`. */
function fdsWhere(test: (path: string) => boolean): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (test(readlinkSync(`/proc/self/fd/${fd}`))) count++;
    } catch {
      // closed while we looked (readdirSync's own descriptor)
    }
  }
  return count;
}

/** Descriptors on the files of the cgroup named `name`, in any hierarchy. */
const fdsOn = (name: string) => fdsWhere((path) => path.includes(`/${name}/`));
/** Descriptors on any cgroup file (only the collector opens them in this process). */
const fdsOnCgroups = () => fdsWhere((path) => path.startsWith('/sys/fs/cgroup/'));

describe.skipIf('skip' in found)('the containers collector on real cgroups', () => {
  const dirs = 'dirs' in found ? found.dirs : [];
  const sleepers = new Map<string, ChildProcess>();

  const make = (name: string) => {
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    sleepers.set(name, sleeper);
    for (const dir of dirs) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'cgroup.procs'), String(sleeper.pid));
    }
  };
  const remove = async (name: string) => {
    const sleeper = sleepers.get(name);
    if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null) {
      const exited = new Promise((resolve) => sleeper.once('exit', resolve));
      sleeper.kill('SIGKILL');
      await exited;
    }
    sleepers.delete(name);
    for (const dir of dirs) await removeWhenEmpty(join(dir, name));
  };

  afterAll(async () => {
    for (const name of [...sleepers.keys()]) await remove(name);
  });

  it('keeps a container’s files open between samples and closes them when it goes away, is made again, or the collector stops', async () => {
    const before = fdsOnCgroups();
    const collector = cgroupContainersCollector({ cadenceMs: 5000, cgroupRoot: '/sys/fs/cgroup', procRoot: '/proc', dockerNames: null });
    if (!collector) throw new Error('no cgroup layout, though one was detected');
    const [kept, removed] = [`${PREFIX}-kept`, `${PREFIX}-removed`];
    // Other engineers' cgroups come and go on this host and may crowd ours out of the top 16: the descriptors say
    // what the collector holds.
    let t = 1_800_000_000_000;
    const sample = () => {
      t += 5000;
      collector.sample(t);
    };
    try {
      make(kept);
      make(removed);
      sample();
      const open = { kept: fdsOn(kept), removed: fdsOn(removed) };
      expect(open.kept).toBeGreaterThan(1); // cgroup.procs and the counters, kept open
      sample();
      expect(fdsOn(kept)).toBe(open.kept); // read again through the same descriptors, none opened anew
      expect(fdsOn(removed)).toBe(open.removed);

      // Its processes gone and its cgroup removed: its descriptors are closed at the next sample.
      await remove(removed);
      await betweenSamples();
      sample();
      expect(fdsOn(removed)).toBe(0);
      expect(fdsOn(kept)).toBe(open.kept);

      // Made again at the same path between two samples: the old files answer ENODEV and are reopened, not doubled.
      await remove(kept);
      make(kept);
      await betweenSamples();
      sample();
      sample();
      // Its counters reopened; a limit file is reopened at its next read (its full-read turn), never twice.
      expect(fdsOn(kept)).toBeGreaterThan(1);
      expect(fdsOn(kept)).toBeLessThanOrEqual(open.kept);
    } finally {
      collector.close?.();
    }
    expect(fdsOnCgroups()).toBe(before);
  });

  it('a kept file of a cgroup removed and made again at the same path reads the new cgroup at once, not null', async () => {
    const name = `${PREFIX}-again`;
    const dir = dirs[0] as string;
    make(name);
    const procs = new OptionalFile(join(dir, name, 'cgroup.procs'));
    try {
      expect(procs.read()?.trim()).toBe(String(sleepers.get(name)?.pid));
      await remove(name);
      make(name);
      expect(procs.read()?.trim()).toBe(String(sleepers.get(name)?.pid));
    } finally {
      procs.close();
    }
  });
});
