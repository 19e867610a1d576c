import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupWalker, detectCgroupLayout } from '../../server/collect/cgroup-layout.js';
import type { Collector } from '../../server/collect/collector.js';
import { cgroupContainersCollector } from '../../server/collect/containers.js';
import type { ContainersSample } from '../../server/protocol.js';
import { tempDir } from '../fixtures/cgroup-trees.js';
import { betweenSamples, removeWhenEmpty } from '../helpers/cgroups.js';

const NAME = `pulseboard-watch-${process.pid}`;

/** The hierarchies this host mounts: the ones a container's cgroup is made in, and every one whose root can be watched. */
function hierarchies(): { container: string[]; roots: string[] } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to make cgroups' };
  const layout = detectCgroupLayout('/sys/fs/cgroup');
  if (!layout) return { skip: 'no cgroup controllers mounted under /sys/fs/cgroup' };
  if (layout.version === 2) return { container: [layout.root], roots: [layout.root] };
  if (!layout.cpuacct || !layout.memory) return { skip: 'the cpuacct and memory v1 hierarchies are not both mounted' };
  // A hybrid host's empty v2 mount is watched too: where the kernel sends mkdir and rmdir events there.
  const unified = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? ['/sys/fs/cgroup/unified'] : [];
  return { container: [layout.cpuacct, layout.memory], roots: [layout.cpuacct, layout.memory, ...unified] };
}

const found = hierarchies();
if ('skip' in found) console.log(`containers-watch.test.ts skipped: ${found.skip}`);

describe.skipIf('skip' in found)('cgroups made and removed between two samples, on this kernel', () => {
  const hierarchyDirs = 'container' in found ? found.container : [];
  const made: string[] = [];
  const sleepers: ChildProcess[] = [];
  const walkers: CgroupWalker[] = [];
  let collector: Collector<'containers'> | null = null;

  afterAll(async () => {
    collector?.close?.();
    for (const walker of walkers) walker.close();
    await Promise.all(sleepers.map(stop));
    for (const dir of made.reverse()) await removeWhenEmpty(dir);
  });

  const mkdir = (dir: string) => {
    mkdirSync(dir);
    made.push(dir);
  };

  it('a new cgroup is in the next walk of each hierarchy, a removed one is not, and one made again at its path is watched afresh', async () => {
    const roots = 'roots' in found ? found.roots : [];
    for (const root of roots) {
      const walker = new CgroupWalker(root);
      walkers.push(walker);
      walker.walk();
      walker.walk(); // past the first walk, which lists everything
      const dir = join(root, `${NAME}-walk`);
      mkdir(dir);
      await betweenSamples();
      expect(walker.walk(), root).toContain(`/${basename(dir)}`);
      rmdirSync(dir);
      made.pop();
      await betweenSamples();
      expect(walker.walk(), root).not.toContain(`/${basename(dir)}`);

      // Removed and made again at the same path, then a child cgroup made in it: kernfs tells the removed
      // directory's own watch nothing, so the new directory must be watched afresh.
      mkdir(dir);
      await betweenSamples();
      expect(walker.walk(), root).toContain(`/${basename(dir)}`);
      rmdirSync(dir);
      mkdirSync(dir);
      await betweenSamples();
      expect(walker.walk(), root).toContain(`/${basename(dir)}`);
      mkdir(join(dir, 'inner'));
      await betweenSamples();
      expect(walker.walk(), root).toContain(`/${basename(dir)}/inner`);
      for (const inner of [made.pop(), made.pop()]) rmdirSync(inner as string);
    }
  });

  it('the collector lists a new container at the next sample (one made inside a running container too), drops a removed one, and sees one replaced by another', async () => {
    // The collector is pointed (as --sysfs does) at a tree whose hierarchies are this test's own cgroup, so the
    // host's other containers cannot push these out of the sample's top 16.
    const view = tempDir('pulseboard-watch-view-');
    for (const hierarchy of hierarchyDirs) {
      mkdir(join(hierarchy, NAME));
      symlinkSync(join(hierarchy, NAME), join(view, basename(hierarchy)));
    }
    // v2: the cgroup itself is a tree (each v2 cgroup has its own cgroup.controllers).
    const containerIn = (name: string) => {
      const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
      sleepers.push(sleeper);
      for (const hierarchy of hierarchyDirs) {
        mkdir(join(hierarchy, NAME, name));
        writeFileSync(join(hierarchy, NAME, name, 'cgroup.procs'), String(sleeper.pid));
      }
      return sleeper;
    };
    const removeContainer = async (name: string, sleeper: ChildProcess) => {
      await stop(sleeper);
      for (const hierarchy of hierarchyDirs) {
        const dir = join(hierarchy, NAME, name);
        await removeWhenEmpty(dir);
        made.splice(made.indexOf(dir), 1);
      }
    };

    const cgroupRoot = hierarchyDirs.length === 1 ? join(hierarchyDirs[0] as string, NAME) : view;
    collector = cgroupContainersCollector({ cadenceMs: 5000, cgroupRoot, procRoot: '/proc', dockerNames: null });
    if (!collector) throw new Error('the collector found no cgroup layout in its view');
    const sample = () => (collector as Collector<'containers'>).sample(Date.now()) as ContainersSample;
    const listed = (s: ContainersSample) => s.top.map((container) => container.id).sort();
    await collector.init?.();
    sample(); // past the first walk, which lists everything

    const a = containerIn('a');
    await betweenSamples();
    const withA = sample();
    expect(listed(withA)).toEqual(['/a']);
    expect(withA.count).toBe(1);

    // Replaced between two samples: the parent's link count is the same before and after.
    await removeContainer('a', a);
    const b = containerIn('b');
    await betweenSamples();
    expect(listed(sample())).toEqual(['/b']);

    // A child cgroup made in a container that runs processes (which the walk no longer lists or stats).
    const inner = containerIn('b/inner');
    await betweenSamples();
    expect(listed(sample())).toEqual(['/b', '/b/inner']);

    await removeContainer('b/inner', inner);
    await removeContainer('b', b);
    await betweenSamples();
    const none = sample();
    expect(none.count).toBe(0);
    expect(none.top).toEqual([]);
  });
});

async function stop(sleeper: ChildProcess): Promise<void> {
  if (sleeper.exitCode !== null || sleeper.signalCode !== null) return;
  const exited = new Promise((resolve) => sleeper.once('exit', resolve));
  sleeper.kill('SIGKILL');
  await exited;
}
