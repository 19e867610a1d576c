import { readFileSync, readlinkSync } from 'node:fs';
import type { ContainerInfo, ContainerNearLimit, ContainersSample } from '../protocol.js';
import { CgroupFiles, type CgroupReading } from './cgroup-counters.js';
import { CgroupWalker, detectCgroupLayout, discoveryRoot, FULL_READ_EVERY } from './cgroup-layout.js';
import type { Collector } from './collector.js';
import { shortCommand } from './command-line.js';
import { type CgroupIdentity, identifyCgroup } from './container-identity.js';
import type { DockerNames } from './docker-names.js';
import { parseNetDev } from './procfs-parse.js';
import { perSecond } from './rate.js';

/** Listed per ranking: the top this many by CPU, and by memory. */
export const CONTAINERS_PER_RANKING = 8;
/**
 * Cgroups whose files stay open between samples: at most about 1 400 descriptors (11 files each on v2, 6 on
 * v1). Past it, a cgroup's files are opened per read: dearer, but a host of thousands of containers cannot
 * run the server out of descriptors.
 */
export const KEPT_OPEN_CGROUPS = 128;

export interface ContainersCollectorOptions {
  cadenceMs: number;
  /** Normally /sys/fs/cgroup (`--sysfs` moves it). */
  cgroupRoot: string;
  /** Normally /proc (`--procfs`): command lines and network namespaces of the containers' processes. */
  procRoot: string;
  /** Names from the Docker/Podman API; null to name from cgroup paths only. */
  dockerNames: DockerNames | null;
}

interface Previous {
  t: number;
  /** When the counters other than CPU were last read: a quiet container's stay as they were. */
  countersT: number;
  /** `cgroup.procs` as last read: a container that holds processes (`first` is never null here). */
  procs: { count: number; first: number };
  /** `pids.current` when `procs` was read; null without the pids controller. */
  procsTasks: number | null;
  cpuUsec: number | null;
  ioRead: number | null;
  ioWrite: number | null;
  netRx: number | null;
  netTx: number | null;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * Containers from the cgroup files: every cgroup that holds a process, with CPU, memory, I/O, network,
 * tasks and pressure; names from the Docker/Podman API when it answers, else from the path and the
 * command line. Null when no cgroup controller is mounted under `cgroupRoot`.
 */
export function cgroupContainersCollector(options: ContainersCollectorOptions): Collector<'containers'> | null {
  const layout = detectCgroupLayout(options.cgroupRoot);
  if (!layout) return null;
  const { procRoot, dockerNames } = options;
  const root = discoveryRoot(layout);
  if (!root) return null;
  const walker = new CgroupWalker(root);
  let samples = 0;
  const files = new Map<string, CgroupFiles>();
  /** What is read once per first process of a container: its command line and its network namespace. */
  const firstProcess = new Map<string, { pid: number; command: string; netns: string | null }>();
  const identities = new Map<string, CgroupIdentity>();
  let previous = new Map<string, Previous>();
  const hostNetns = readLink(`${procRoot}/1/ns/net`);

  const firstProcessOf = (id: string, pid: number) => {
    const known = firstProcess.get(id);
    if (known?.pid === pid) return known;
    const cmdline = readText(`${procRoot}/${pid}/cmdline`);
    // Unreadable (exited, or hidden by hidepid): say so rather than guess.
    const command = cmdline === null ? '?' : shortCommand(cmdline, (readText(`${procRoot}/${pid}/comm`) ?? '?').trim());
    const read = { pid, command, netns: readLink(`${procRoot}/${pid}/ns/net`) };
    firstProcess.set(id, read);
    return read;
  };

  const identityOf = (path: string): CgroupIdentity => {
    let identity = identities.get(path);
    if (!identity) {
      identity = identifyCgroup(path);
      identities.set(path, identity);
    }
    return identity;
  };

  /** Bytes received and sent in the process's network namespace, when it is not the host's. */
  const networkOf = (pid: number, netns: string | null): { rx: number; tx: number } | null => {
    if (netns === null || hostNetns === null || netns === hostNetns) return null;
    const text = readText(`${procRoot}/${pid}/net/dev`);
    if (text === null) return null;
    let rx = 0;
    let tx = 0;
    for (const [name, counters] of parseNetDev(text)) {
      if (name === 'lo') continue;
      rx += counters.rx;
      tx += counters.tx;
    }
    return { rx, tx };
  };

  const sample = (t: number): ContainersSample => {
    // A container that held processes at the last sample is rechecked for new child cgroups on the limits cadence.
    const paths = walker.walk((path) => previous.has(path));
    samples++;
    const listed = new Set(paths);
    for (const [path, cgroup] of files) {
      if (listed.has(path)) continue;
      cgroup.close();
      files.delete(path);
      firstProcess.delete(path);
      identities.delete(path);
    }
    const current = new Map<string, Previous>();
    const all: ContainerInfo[] = [];
    const engineIds: string[] = [];
    for (const [index, path] of paths.entries()) {
      let cgroup = files.get(path);
      if (!cgroup) {
        cgroup = new CgroupFiles(layout, path, root, files.size < KEPT_OPEN_CGROUPS);
        files.set(path, cgroup);
      }
      // Each container in full every FULL_READ_EVERY samples, a share of them each time: no sample reads them all.
      const withLimits = (samples + index) % FULL_READ_EVERY === 0;
      const before = previous.get(path);
      const cpuNow = before ? cgroup.cpuUsec() : undefined;
      let now: Previous;
      let reading: CgroupReading;
      if (before && cpuNow !== undefined && isQuiet(before, cpuNow) && !withLimits) {
        reading = cgroup.reuse(cpuNow);
        now = { ...before, t };
      } else {
        const tasks = cgroup.tasks();
        const procs = before && !withLimits && sameTasks(before, tasks) ? before.procs : cgroup.procs();
        if (procs.first === null) continue;
        const cpuUsec = cpuNow === undefined ? cgroup.cpuUsec() : cpuNow;
        reading = cgroup.read(cpuUsec, tasks, withLimits);
        const network = networkOf(procs.first, firstProcessOf(path, procs.first).netns);
        now = {
          t,
          countersT: t,
          procs: { count: procs.count, first: procs.first },
          procsTasks: tasks,
          cpuUsec,
          ioRead: reading.io?.read ?? null,
          ioWrite: reading.io?.write ?? null,
          netRx: network?.rx ?? null,
          netTx: network?.tx ?? null,
        };
      }
      current.set(path, now);
      const identity = identityOf(path);
      const engine = identity.containerId ? dockerNames?.lookup(identity.containerId) : undefined;
      if (identity.containerId) engineIds.push(identity.containerId);
      all.push({
        id: path,
        name: engine?.name ?? identity.name,
        kind: identity.kind,
        image: engine?.image ?? null,
        command: firstProcessOf(path, now.procs.first).command,
        ...rates(before, now, reading),
        memory: reading.memory,
        memoryLimit: reading.memoryLimit,
        pids: reading.tasks ?? now.procs.count,
        pressure: reading.pressure,
      });
    }
    previous = current;
    dockerNames?.refresh(t, engineIds);
    return { t, count: all.length, top: topContainers(all), closestToLimit: closestToLimit(all) };
  };

  return {
    topic: 'containers',
    source: `cgroup v${layout.version}`,
    cadenceMs: options.cadenceMs,
    async init() {
      sample(Date.now()); // baseline counters, so the first scheduled sample has rates
    },
    sample,
    close() {
      for (const cgroup of files.values()) cgroup.close();
      files.clear();
      dockerNames?.close();
    },
  };
}

/**
 * A container that used no CPU since the previous sample (as cAdvisor's dynamic housekeeping assumes) did
 * little else of its own: its memory, I/O, network, tasks and pressure files are read again only on its
 * full-read turn (every FULL_READ_EVERY samples) or as soon as it uses CPU. Idle containers, most of a host's,
 * then cost one CPU file and `cgroup.procs` per sample instead of six to eleven files.
 */
function isQuiet(before: Previous, cpuUsec: number | null): boolean {
  return cpuUsec !== null && before.cpuUsec === cpuUsec;
}

/**
 * A busy container whose task count (`pids.current`, threads included) has not moved since its
 * `cgroup.procs` was last read keeps that list (its process count and first process) until its full-read
 * turn: `cgroup.procs` is the dearest file of a v1 cgroup (the kernel builds and sorts a pid list per read),
 * and processes seldom start or exit without changing the count. Without the pids controller, read every time.
 */
function sameTasks(before: Previous, tasks: number | null): boolean {
  return tasks !== null && before.procsTasks === tasks;
}

type Rates = Pick<ContainerInfo, 'cpu' | 'cpuOfLimit' | 'ioRead' | 'ioWrite' | 'netRx' | 'netTx'>;
type Counter = Exclude<keyof Previous, 't' | 'countersT' | 'procs' | 'procsTasks'>;

/**
 * Rates since the previous reading of the same cgroup; null on its first reading or where a counter is
 * missing. A quiet container's I/O and network counters were not read again: 0 while they wait, then the
 * rate over the whole time since they were last read.
 */
function rates(before: Previous | undefined, now: Previous, reading: CgroupReading): Rates {
  const rate = (key: Counter): number | null => {
    const a = before?.[key];
    const b = now[key];
    if (!before || a === null || a === undefined || b === null) return null;
    if (key !== 'cpuUsec' && now.countersT === before.countersT) return 0;
    const elapsed = key === 'cpuUsec' ? now.t - before.t : now.countersT - before.countersT;
    return elapsed > 0 ? perSecond(a, b, elapsed) : null;
  };
  const cpuUsecPerSecond = rate('cpuUsec');
  const cpu = cpuUsecPerSecond === null ? null : round1(cpuUsecPerSecond / 10_000);
  const whole = (value: number | null) => (value === null ? null : Math.round(value));
  return {
    cpu,
    cpuOfLimit: cpu === null || reading.cpuLimitCores === null ? null : round1(cpu / reading.cpuLimitCores),
    ioRead: whole(rate('ioRead')),
    ioWrite: whole(rate('ioWrite')),
    netRx: whole(rate('netRx')),
    netTx: whole(rate('netTx')),
  };
}

/**
 * The busiest by CPU, then the largest by memory not already listed, up to twice `perRanking`: either
 * ranking's top `perRanking` is always in.
 */
export function topContainers(all: ContainerInfo[], perRanking = CONTAINERS_PER_RANKING): ContainerInfo[] {
  const byCpu = [...all].sort((a, b) => (b.cpu ?? -1) - (a.cpu ?? -1) || (b.memory ?? -1) - (a.memory ?? -1)).slice(0, perRanking);
  const listed = new Set(byCpu.map((c) => c.id));
  const byMemory = [...all].sort((a, b) => (b.memory ?? -1) - (a.memory ?? -1)).filter((c) => !listed.has(c.id));
  return [...byCpu, ...byMemory.slice(0, 2 * perRanking - byCpu.length)];
}

/** The container using the largest share of its memory limit, or null when none has both figures. */
export function closestToLimit(all: ContainerInfo[]): ContainerNearLimit | null {
  let closest: ContainerNearLimit | null = null;
  for (const c of all) {
    if (c.memory === null || c.memoryLimit === null || c.memoryLimit <= 0) continue;
    const percent = round1((c.memory * 100) / c.memoryLimit);
    if (!closest || percent > closest.percent) closest = { id: c.id, name: c.name, percent };
  }
  return closest;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null; // the process exited, or we may not read it
  }
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
