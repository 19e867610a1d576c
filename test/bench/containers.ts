import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { detectCgroupLayout } from '../../server/collect/cgroup-layout.js';
import type { Collector } from '../../server/collect/collector.js';
import { type ContainersCollectorOptions, cgroupContainersCollector } from '../../server/collect/containers.js';
import { CONTAINERS_INTERVAL_MS } from '../../server/collect/index.js';
import type { ContainersSample } from '../../server/protocol.js';
import { cgroupV2Tree, cpuStatV2, ioStatV2, memoryStatV2, pressure, procTree, tempDir, writeTree } from '../fixtures/cgroup-trees.js';
import { removeWhenEmpty } from '../helpers/cgroups.js';
import { sleep } from './procs.js';

export const BENCH_CGROUPS = 50;
/** A busy container's shell starts a `sleep` this often. */
const BUSY_LOOP_MS = 1000;

export interface ContainersCost {
  /** What was read: this host's real cgroups (idle sleepers), or a cgroup v2 fixture tree whose every container uses CPU. */
  kind: 'real, idle' | 'real, all busy' | 'fixture v2, all busy';
  /** This build, or the one BENCH_CONTAINERS_BEFORE names, measured on the same cgroups in the same run. */
  build: 'this' | 'before';
  /** Containers the collector found (the 50 made, plus the host's own). */
  containers: number;
  samples: number;
  msPerSample: number;
  /** Samples each collector took back to back before the timed ones (BENCH_CONTAINERS_WARMUP): 0, a fresh collector. */
  warmupSamples: number;
  /** The median sample: one sample slowed by the other engineers' work moves the mean, not this. */
  medianMs: number;
  /** Every timed sample's CPU, ms, in order: where a mean over the budget comes from (a slow first sample, or all). */
  eachMs: number[];
  /** The first FRESH_SAMPLES warm-up samples (a fresh collector, run by V8's interpreter); null without a warm-up. */
  fresh: { samples: number; msPerSample: number; percentOfCore: number } | null;
  /** CPU at the collector's 5 s cadence, percent of one core. */
  percentOfCore: number;
  /**
   * With a "before" build: the median over ticks of this build's sample CPU over the before build's in the
   * same tick (both sample the same cgroups back to back), on this build's row; null otherwise.
   */
  medianTickRatio: number | null;
  command: string;
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** How long to time the collectors, which build to time beside this one, and how warm to start them. */
export interface ContainersBenchOptions {
  seconds: number;
  /** Another checkout's root (BENCH_CONTAINERS_BEFORE), or '' for this build alone. */
  beforeRoot: string;
  /**
   * Samples taken back to back before the timed ones: V8 runs a fresh collector's code in its interpreter
   * and compiles it only after enough calls, so the first minutes of a server cost more per sample than the
   * hours after them (300 samples back to back stand for 25 minutes at 5 s).
   */
  warmupSamples: number;
}

/** The first warm-up samples, timed: what a fresh collector costs, before V8 has compiled it. */
export const FRESH_SAMPLES = 12;

/**
 * CPU around each `sample()`, on the collector's cadence, as the sampler would call it. With two collectors
 * (this build's and a "before" build's, on the same cgroups), both sample every tick and take turns at going
 * first, so neither always finds the kernel's caches warmed by the other. The warm-up samples come
 * `warmupGapMs` apart: a busy container's CPU counter must move between two of them, or the warm-up only
 * runs the quiet path (one file per container) and the timed samples compile the busy one.
 */
async function measure(
  collectors: Collector<'containers'>[],
  { seconds, warmupSamples }: ContainersBenchOptions,
  beforeEachSample: () => void = () => {},
  warmupGapMs = 0,
): Promise<Run[]> {
  for (const collector of collectors) await collector.init?.();
  const runs: Run[] = collectors.map(() => ({ each: [], fresh: [], containers: 0 }));
  for (let i = 0; i < warmupSamples; i++) {
    if (warmupGapMs > 0) await sleep(warmupGapMs);
    beforeEachSample();
    for (let index = 0; index < collectors.length; index++) {
      const before = cpuMs();
      await (collectors[index] as Collector<'containers'>).sample(Date.now());
      if (i < FRESH_SAMPLES) (runs[index] as Run).fresh.push(cpuMs() - before);
    }
  }
  const until = Date.now() + seconds * 1000;
  for (let tick = 0; Date.now() < until; tick++) {
    await sleep(CONTAINERS_INTERVAL_MS - (Date.now() % CONTAINERS_INTERVAL_MS));
    beforeEachSample();
    for (let turn = 0; turn < collectors.length; turn++) {
      const index = (turn + tick) % collectors.length;
      const run = runs[index] as Run;
      const before = cpuMs();
      const sample = (await (collectors[index] as Collector<'containers'>).sample(Date.now())) as ContainersSample;
      const ms = cpuMs() - before;
      run.each.push(ms);
      run.containers = sample.count;
    }
  }
  for (const collector of collectors) collector.close?.();
  return runs;
}

/** The collector of this build, and of the build under `beforeRoot` (a checkout's root) when one is named. */
async function collectorsFor(options: ContainersCollectorOptions, beforeRoot: string): Promise<Collector<'containers'>[]> {
  const ours = cgroupContainersCollector(options);
  if (!ours) return [];
  if (beforeRoot === '') return [ours];
  const other = (await import(resolve(beforeRoot, 'server/collect/containers.ts'))) as {
    cgroupContainersCollector: typeof cgroupContainersCollector;
  };
  const before = other.cgroupContainersCollector(options);
  if (!before) throw new Error(`${beforeRoot}'s containers collector finds no cgroups where this one does`);
  return [ours, before];
}

interface Run {
  /** Each sample's CPU, ms. */
  each: number[];
  /** The first FRESH_SAMPLES warm-up samples' CPU, ms. */
  fresh: number[];
  containers: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const costOf = (samples: number[]) => {
  const msPerSample = samples.reduce((sum, ms) => sum + ms, 0) / samples.length;
  return { samples: samples.length, msPerSample, percentOfCore: (msPerSample / CONTAINERS_INTERVAL_MS) * 100 };
};

const result = (
  kind: ContainersCost['kind'],
  run: Run,
  command: string,
  warmupSamples: number,
  build: ContainersCost['build'],
  before?: Run,
): ContainersCost => {
  const { samples, msPerSample, percentOfCore } = costOf(run.each);
  return {
    kind,
    build,
    warmupSamples,
    containers: run.containers,
    samples,
    msPerSample,
    medianMs: median(run.each),
    eachMs: run.each,
    fresh: run.fresh.length === 0 ? null : costOf(run.fresh),
    percentOfCore,
    medianTickRatio: before ? median(run.each.map((ms, tick) => ms / (before.each[tick] as number))) : null,
    command,
  };
};

/** This build's result (against the before build's, tick by tick, when there is one) and the before build's. */
const results = (kind: ContainersCost['kind'], runs: Run[], command: string, warmupSamples: number): ContainersCost[] => {
  const [ours, before] = runs as [Run, Run | undefined];
  return [
    result(kind, ours, command, warmupSamples, 'this', before),
    ...(before ? [result(kind, before, command, warmupSamples, 'before')] : []),
  ];
};

const warmedUp = (warmupSamples: number, gapMs = 0) =>
  warmupSamples > 0
    ? ` after ${warmupSamples} samples ${gapMs > 0 ? `${gapMs} ms apart` : 'back to back'} (the first ${FRESH_SAMPLES} timed as "fresh")`
    : '';

/**
 * 50 real cgroups on this host (as root: v1 `cpuacct` + `memory` + `blkio` + `pids`, or the v2 tree), each
 * holding one sleeping process, read by the containers collector every 5 s; removed afterwards. Null
 * where cgroups cannot be made (not root, no controllers).
 */
export async function benchRealCgroups(options: ContainersBenchOptions, busy: boolean): Promise<ContainersCost[]> {
  const layout = detectCgroupLayout('/sys/fs/cgroup');
  if (process.getuid?.() !== 0 || !layout) return [];
  const hierarchies =
    layout.version === 2
      ? [layout.root]
      : [layout.cpuacct, layout.memory, layout.blkio, layout.pids].filter((d): d is string => d !== null);
  const dirs: string[] = [];
  const sleepers: ChildProcess[] = [];
  try {
    for (let i = 0; i < BENCH_CGROUPS; i++) {
      // Busy: each container wakes every second (a `sleep 1` started by its shell), so its CPU counter moves
      // between any two samples and none is quiet; idle: one process that sleeps throughout.
      const sleeper = busy
        ? spawn('sh', ['-c', `while :; do sleep ${BUSY_LOOP_MS / 1000}; done`], { stdio: 'ignore', detached: true })
        : spawn('sleep', ['3600'], { stdio: 'ignore', detached: true });
      sleepers.push(sleeper);
      for (const hierarchy of hierarchies) {
        const dir = join(hierarchy, `pulseboard-bench-${process.pid}-${i}`);
        mkdirSync(dir);
        dirs.push(dir);
        writeFileSync(join(dir, 'cgroup.procs'), String(sleeper.pid));
      }
    }
    const collectors = await collectorsFor(
      { cadenceMs: CONTAINERS_INTERVAL_MS, cgroupRoot: '/sys/fs/cgroup', procRoot: '/proc', dockerNames: null },
      options.beforeRoot,
    );
    // Busy containers fork every second: warm-up samples that far apart all find them busy.
    const warmupGapMs = busy ? BUSY_LOOP_MS + 100 : 0;
    const runs = await measure(collectors, options, undefined, warmupGapMs);
    const command = `test/bench/containers.ts: ${BENCH_CGROUPS} cgroups made in ${hierarchies.join(', ')}, ${busy ? `a shell running \`sleep ${BUSY_LOOP_MS / 1000}\` in a loop` : 'one sleeping process'} in each; cgroupContainersCollector every 5 s for ${options.seconds} s${warmedUp(options.warmupSamples, warmupGapMs)}, process.cpuUsage() around each sample()`;
    return results(busy ? 'real, all busy' : 'real, idle', runs, command, options.warmupSamples);
  } finally {
    await Promise.all(
      sleepers.map(
        (sleeper) =>
          new Promise((resolve) => {
            if (sleeper.exitCode !== null || sleeper.signalCode !== null) return resolve(null);
            sleeper.once('exit', resolve);
            if (sleeper.pid !== undefined) process.kill(-sleeper.pid, 'SIGKILL'); // its process group: the shell's `sleep` too
          }),
      ),
    );
    for (const dir of dirs) await removeWhenEmpty(dir);
  }
}

/** The same on a cgroup v2 fixture tree of 50 containers with every file (PSI included): the v2 read path on any host. */
export async function benchFixtureCgroups(options: ContainersBenchOptions): Promise<ContainersCost[]> {
  const cgroupRoot = tempDir('pulseboard-bench-cgroup-');
  const procRoot = tempDir('pulseboard-bench-proc-');
  writeTree(cgroupRoot, cgroupV2Tree({ cpuUsec: 1, ioRead: 4096, ioWrite: 0 }));
  writeTree(procRoot, procTree({ rx: 0, tx: 0 }));
  for (let i = 0; i < BENCH_CGROUPS; i++) {
    const dir = `system.slice/app-${i}.service`;
    writeTree(cgroupRoot, {
      [`${dir}/cgroup.procs`]: `${5000 + i}\n`,
      [`${dir}/cpu.stat`]: cpuStatV2(1000 * i),
      [`${dir}/cpu.max`]: 'max 100000\n',
      [`${dir}/memory.current`]: '104857600\n',
      [`${dir}/memory.stat`]: memoryStatV2(1048576),
      [`${dir}/memory.max`]: '536870912\n',
      [`${dir}/io.stat`]: ioStatV2(8192, 4096),
      [`${dir}/pids.current`]: '3\n',
      [`${dir}/cpu.pressure`]: pressure(0.5),
      [`${dir}/memory.pressure`]: pressure(0),
      [`${dir}/io.pressure`]: pressure(0.1),
    });
  }
  for (let i = 0; i < BENCH_CGROUPS; i++) writeTree(procRoot, { [`${5000 + i}/cmdline`]: `/usr/bin/node\0/srv/app-${i}/server.js\0` });
  const collectors = await collectorsFor(
    { cadenceMs: CONTAINERS_INTERVAL_MS, cgroupRoot, procRoot, dockerNames: null },
    options.beforeRoot,
  );
  if (collectors.length === 0) throw new Error('the fixture tree has no cgroup layout');
  // Every container uses CPU between samples, so none is quiet: every file of every container is read each time.
  let usedUsec = 0;
  const useCpu = () => {
    usedUsec += 1000;
    for (let i = 0; i < BENCH_CGROUPS; i++)
      writeFileSync(join(cgroupRoot, `system.slice/app-${i}.service/cpu.stat`), cpuStatV2(1000 * i + usedUsec));
  };
  const runs = await measure(collectors, options, useCpu);
  const command = `test/bench/containers.ts: cgroup v2 fixture tree of ${BENCH_CGROUPS} services with every file the collector reads (regular files on ext4, not kernfs), each one's cpu.stat moved before every sample (outside the timing); every 5 s for ${options.seconds} s${warmedUp(options.warmupSamples)}`;
  return results('fixture v2, all busy', runs, command, options.warmupSamples);
}
