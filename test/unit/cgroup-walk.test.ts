import { EventEmitter } from 'node:events';
import { type FSWatcher, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CgroupWalker, FULL_READ_EVERY } from '../../server/collect/cgroup-layout.js';
import { DirectoryWatches, fsWatch, NOISE_WINDOW_MS, NOISY_EVENTS, type WatchDirectory } from '../../server/collect/cgroup-watch.js';
import { tempDir } from '../fixtures/cgroup-trees.js';
import { betweenSamples } from '../helpers/cgroups.js';

const walkers: CgroupWalker[] = [];
afterEach(() => {
  for (const walker of walkers.splice(0)) walker.close();
});

function walkerOf(root: string, watchDirectory?: WatchDirectory): CgroupWalker {
  const walker = new CgroupWalker(root, watchDirectory);
  walkers.push(walker);
  return walker;
}

/** A watch that cannot be set, as when the kernel's inotify watches run out. */
const noWatches: WatchDirectory = () => {
  throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
};

function tree(...dirs: string[]): string {
  const root = tempDir('pulseboard-walk-');
  for (const dir of dirs) mkdirSync(join(root, dir), { recursive: true });
  return root;
}

describe('the cgroup walk, with each directory watched', () => {
  it('finds a child cgroup made anywhere at the next walk (under a container running processes too), and drops a removed or replaced one', async () => {
    const root = tree('system.slice/busy.service', 'system.slice/old.service', 'kubepods/pod-a/container-1');
    const walker = walkerOf(root);
    const settled = (path: string) => path === '/system.slice/busy.service';
    walker.walk(settled);
    walker.walk(settled); // past the first walk, which lists everything

    mkdirSync(join(root, 'system.slice/new.service'));
    mkdirSync(join(root, 'system.slice/busy.service/payload'));
    rmdirSync(join(root, 'system.slice/old.service'));
    rmdirSync(join(root, 'kubepods/pod-a/container-1'));
    mkdirSync(join(root, 'kubepods/pod-a/container-2'));
    await betweenSamples();
    const next = walker.walk(settled);
    expect(next).toContain('/system.slice/new.service');
    // Without a watch, a settled leaf is checked for children only on every FULL_READ_EVERY-th walk.
    expect(next).toContain('/system.slice/busy.service/payload');
    expect(next).not.toContain('/system.slice/old.service');
    expect(next).toContain('/kubepods/pod-a/container-2');
    expect(next).not.toContain('/kubepods/pod-a/container-1');

    // A cgroup made again at a removed one's path is a new directory: its own changes are seen too.
    rmdirSync(join(root, 'system.slice/busy.service/payload'));
    rmdirSync(join(root, 'system.slice/busy.service'));
    mkdirSync(join(root, 'system.slice/busy.service'));
    await betweenSamples();
    expect(walker.walk(settled)).not.toContain('/system.slice/busy.service/payload');
    mkdirSync(join(root, 'system.slice/busy.service/payload-2'));
    await betweenSamples();
    expect(walker.walk(settled)).toContain('/system.slice/busy.service/payload-2');
  });

  it('gives the same list again while no cgroup was made or removed', async () => {
    const root = tree('system.slice/a.service', 'user.slice');
    const walker = walkerOf(root);
    const first = walker.walk();
    const again = walker.walk();
    expect(again.sort()).toEqual(first.sort());
    expect(walker.walk()).toBe(again);
    mkdirSync(join(root, 'user.slice/b.scope'));
    await betweenSamples();
    const changed = walker.walk();
    expect(changed).not.toBe(again);
    expect(changed).toContain('/user.slice/b.scope');
  });
});

describe('the cgroup walk where a watch cannot be set', () => {
  it('finds a new container under a slice and one nested in a leaf at once, and a removed one goes at once', () => {
    const root = tree('system.slice/a.service');
    const walker = walkerOf(root, noWatches);
    expect(walker.walk().sort()).toEqual(['/system.slice', '/system.slice/a.service']);

    mkdirSync(join(root, 'system.slice/b.service'));
    mkdirSync(join(root, 'system.slice/a.service/payload'));
    const next = walker.walk();
    expect(next).toContain('/system.slice/b.service'); // its parent is listed every walk
    expect(next).toContain('/system.slice/a.service/payload'); // a leaf's link count says it has a child now

    rmdirSync(join(root, 'system.slice/b.service'));
    expect(walker.walk()).not.toContain('/system.slice/b.service');
  });

  it('checks a settled leaf (a container running processes) for new children only on every FULL_READ_EVERY-th walk', () => {
    const root = tree('system.slice/busy.service', 'kubepods/pod-a');
    const walker = walkerOf(root, noWatches);
    const settled = (path: string) => path === '/system.slice/busy.service';
    walker.walk(settled); // the first walk lists everything
    mkdirSync(join(root, 'system.slice/busy.service/payload'));
    mkdirSync(join(root, 'kubepods/pod-a/container-1'));
    const walks = Array.from({ length: FULL_READ_EVERY }, () => walker.walk(settled));
    // The empty pod's new container at once; the busy service's child only on the next check of every leaf.
    expect(walks[0]).toContain('/kubepods/pod-a/container-1');
    expect(walks.slice(0, FULL_READ_EVERY - 1).some((paths) => paths.includes('/system.slice/busy.service/payload'))).toBe(false);
    expect(walks[FULL_READ_EVERY - 1]).toContain('/system.slice/busy.service/payload');
  });

  it('lists a directory every walk once its watch fails', () => {
    const root = tree('system.slice/a.service');
    const watchers = new Map<string, FSWatcher>();
    const walker = walkerOf(root, (dir, onEvent) => {
      const watcher = fsWatch(dir, onEvent);
      watchers.set(dir, watcher);
      return watcher;
    });
    walker.walk();
    walker.walk();
    watchers.get(join(root, 'system.slice'))?.emit('error', new Error('EIO'));
    // Made with no turn of the event loop between: no event could say so, only a listing.
    mkdirSync(join(root, 'system.slice/b.service'));
    expect(walker.walk()).toContain('/system.slice/b.service');
  });
});

describe('a watch woken too often by control files', () => {
  /** Watches whose events the test fires; closed ones counted. */
  function firedWatches() {
    const fire = new Map<string, (type: string) => void>();
    let closed = 0;
    const watchDirectory: WatchDirectory = (dir, onEvent) => {
      fire.set(dir, onEvent);
      return Object.assign(new EventEmitter(), { close: () => closed++ }) as unknown as FSWatcher;
    };
    return { watchDirectory, fire: (dir: string, type: string) => fire.get(dir)?.(type), closed: () => closed };
  }

  it(`is let go after more than ${NOISY_EVENTS} such events within ${NOISE_WINDOW_MS / 1000} s: the directory is listed at each walk instead`, () => {
    const dir = tree();
    const now = 0;
    const fake = firedWatches();
    const watches = new DirectoryWatches(fake.watchDirectory, () => now);
    expect(watches.listing('/noisy', dir)).toBe(true);
    const changesBefore = watches.changes;
    for (let i = 0; i < NOISY_EVENTS; i++) fake.fire(dir, 'change');
    expect(watches.unchanged('/noisy')).toBe(true); // still worth its watch
    fake.fire(dir, 'change');
    expect(watches.unwatchable('/noisy')).toBe(true);
    expect(watches.unchanged('/noisy')).toBe(false);
    expect(fake.closed()).toBe(1);
    expect(watches.changes).toBeGreaterThan(changesBefore); // the next walk lists it
  });

  it('keeps its watch when the same events are spread out', () => {
    const dir = tree();
    let now = 0;
    const fake = firedWatches();
    const watches = new DirectoryWatches(fake.watchDirectory, () => now);
    watches.listing('/steady', dir);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < NOISY_EVENTS; i++) fake.fire(dir, 'change');
      now += NOISE_WINDOW_MS + 1;
    }
    expect(watches.unchanged('/steady')).toBe(true);
    expect(watches.unwatchable('/steady')).toBe(false);
    expect(fake.closed()).toBe(0);
  });
});
