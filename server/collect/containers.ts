import { readFileSync, readlinkSync } from 'node:fs';
import type { ContainerInfo, ContainerNearLimit, ContainersSample } from '../protocol.js';
import { CgroupFiles } from './cgroup-counters.js';
import { CgroupWalker, detectCgroupLayout, discoveryRoot, FULL_READ_EVERY } from './cgroup-layout.js';
import type { Collector } from './collector.js';
import { shortCommand } from './command-line.js';
import { identifyCgroup } from './container-identity.js';
import { topContainers } from './container-ranking.js';
import { ContainerState, type FirstProcess } from './container-state.js';
import type { DockerNames } from './docker-names.js';
import { parseNetDev } from './procfs-parse.js';

/**
 * Cgroups whose files stay open between samples: at most about 1 550 descriptors (11 files each on v2, 6 on
 * v1, and the first process's `net/dev` of a container with its own network namespace). Past it, a cgroup's files are opened per read: dearer, but a host of thousands of containers cannot
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
  /** Every cgroup the last walk found, by path. */
  const states = new Map<string, ContainerState>();
  /** This sample's containers (cgroups holding processes) and their engine ids: kept, emptied each sample. */
  const holding: ContainerState[] = [];
  const engineIds: string[] = [];
  const hostNetns = readLink(`${procRoot}/1/ns/net`);

  const firstProcessOf = (state: ContainerState, pid: number): FirstProcess => {
    const known = state.firstProcess;
    if (known?.pid === pid) return known;
    const cmdline = readText(`${procRoot}/${pid}/cmdline`);
    // Unreadable (exited, or hidden by hidepid): say so rather than guess.
    const command = cmdline === null ? '?' : shortCommand(cmdline, (readText(`${procRoot}/${pid}/comm`) ?? '?').trim());
    state.firstProcess = { pid, command, netns: readLink(`${procRoot}/${pid}/ns/net`) };
    return state.firstProcess;
  };

  /** Bytes received and sent in the first process's network namespace, when it is not the host's. */
  const networkOf = (state: ContainerState, first: FirstProcess): { rx: number; tx: number } | null => {
    if (first.netns === null || hostNetns === null || first.netns === hostNetns) return null;
    const text = state.netDevOf(procRoot, first.pid).read();
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

  /**
   * Reads one cgroup for this sample; false when it holds no process of its own (not a container). A
   * container that used no CPU since the previous sample is read from its CPU file alone (see isQuiet).
   */
  const readContainer = (state: ContainerState, t: number, withLimits: boolean, hadPrevious: boolean): boolean => {
    const { files } = state;
    const cpuNow = hadPrevious ? files.cpuUsec() : undefined;
    if (hadPrevious && cpuNow !== undefined && isQuiet(state, cpuNow) && !withLimits) {
      state.cpuRead(t, true, cpuNow);
      state.countersWaited();
      return true;
    }
    const tasks = files.tasks();
    if (!(hadPrevious && !withLimits && sameTasks(state, tasks))) {
      const procs = files.procs();
      if (procs.first === null) return false;
      state.processes = procs.count;
      state.firstPid = procs.first;
      state.tasksAtProcs = tasks;
    }
    const cpuUsec = cpuNow === undefined ? files.cpuUsec() : cpuNow;
    const reading = files.read(tasks, withLimits);
    state.cpuRead(t, hadPrevious, cpuUsec);
    const network = networkOf(state, firstProcessOf(state, state.firstPid));
    state.countersRead(t, hadPrevious, reading.ioRead, reading.ioWrite, network?.rx ?? null, network?.tx ?? null);
    return true;
  };

  const engineOf = (state: ContainerState) => (state.identity.containerId ? dockerNames?.lookup(state.identity.containerId) : undefined);

  /** What the sample lists of a container: a new object, as a published sample is never changed. */
  const infoOf = (state: ContainerState): ContainerInfo => {
    const { identity, files } = state;
    const { reading } = files;
    const engine = engineOf(state);
    return {
      id: state.path,
      name: engine?.name ?? identity.name,
      kind: identity.kind,
      image: engine?.image ?? null,
      command: state.firstProcess?.command ?? '?',
      cpu: state.cpu,
      cpuOfLimit: state.cpuOfLimit,
      ioRead: state.ioRead,
      ioWrite: state.ioWrite,
      netRx: state.netRx,
      netTx: state.netTx,
      memory: reading.memory,
      memoryLimit: reading.memoryLimit,
      pids: reading.tasks ?? state.processes,
      pressure: reading.pressure,
    };
  };

  /** The container using the largest share of its memory limit, or null when none has both figures. */
  const closestToLimit = (all: readonly ContainerState[]): ContainerNearLimit | null => {
    let closest: ContainerState | null = null;
    let closestPercent = 0;
    for (const state of all) {
      const { memory, memoryLimit } = state.files.reading;
      if (memory === null || memoryLimit === null || memoryLimit <= 0) continue;
      const percent = round1((memory * 100) / memoryLimit);
      if (closest === null || percent > closestPercent) {
        closest = state;
        closestPercent = percent;
      }
    }
    return closest === null ? null : { id: closest.path, name: engineOf(closest)?.name ?? closest.identity.name, percent: closestPercent };
  };

  let lastPaths: string[] = [];
  /** Closes and forgets the cgroups the walk no longer finds. */
  const dropGone = (paths: readonly string[]) => {
    for (const path of paths) {
      const state = states.get(path);
      if (state) state.seenAt = samples;
    }
    for (const [path, state] of states) {
      if (state.seenAt === samples) continue;
      state.close();
      states.delete(path);
    }
  };

  const sample = (t: number): ContainersSample => {
    const previousSample = samples;
    // A container that held processes at the last sample is rechecked for new child cgroups on the limits cadence.
    const paths = walker.walk((path) => states.get(path)?.heldAt === previousSample);
    samples++;
    // The same list as the last walk's: no cgroup went.
    if (paths !== lastPaths) dropGone(paths);
    lastPaths = paths;
    holding.length = 0;
    engineIds.length = 0;
    for (let index = 0; index < paths.length; index++) {
      const path = paths[index] as string;
      let state = states.get(path);
      if (!state) {
        const files = new CgroupFiles(layout, path, root, states.size < KEPT_OPEN_CGROUPS);
        state = new ContainerState(path, files, identifyCgroup(path));
        state.seenAt = samples;
        states.set(path, state);
      }
      // Each container in full every FULL_READ_EVERY samples, a share of them each time: no sample reads them all.
      const withLimits = (samples + index) % FULL_READ_EVERY === 0;
      if (!readContainer(state, t, withLimits, state.heldAt === previousSample)) continue;
      state.heldAt = samples;
      holding.push(state);
      if (state.identity.containerId) engineIds.push(state.identity.containerId);
    }
    dockerNames?.refresh(t, engineIds);
    return { t, count: holding.length, top: topContainers(holding).map(infoOf), closestToLimit: closestToLimit(holding) };
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
      for (const state of states.values()) state.close();
      states.clear();
      walker.close();
      dockerNames?.close();
    },
  };
}

/**
 * A container that used no CPU since the previous sample (as cAdvisor's dynamic housekeeping assumes) did
 * little else of its own: its memory, I/O, network, tasks and pressure files are read again only on its
 * full-read turn (every FULL_READ_EVERY samples) or as soon as it uses CPU. Idle containers, most of a host's,
 * then cost one CPU file per sample instead of six to eleven files.
 */
function isQuiet(state: ContainerState, cpuUsec: number | null): boolean {
  return cpuUsec !== null && state.cpuUsec === cpuUsec;
}

/**
 * A busy container whose task count (`pids.current`, threads included) has not moved since its
 * `cgroup.procs` was last read keeps that list (its process count and first process) until its full-read
 * turn: `cgroup.procs` is the dearest file of a v1 cgroup (the kernel builds and sorts a pid list per read),
 * and processes seldom start or exit without changing the count. Without the pids controller, read every time.
 */
function sameTasks(state: ContainerState, tasks: number | null): boolean {
  return tasks !== null && state.tasksAtProcs === tasks;
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
