import type { ContainerPressure } from '../protocol.js';
import type { CgroupLayout } from './cgroup-layout.js';
import {
  blkioSum,
  cpuQuotaCores,
  decimalAt,
  ioStatSum,
  keyValue,
  parseCpuMax,
  parseMemoryLimit,
  pressureSomeAvg10,
  procsSummary,
} from './cgroup-parse.js';
import { OptionalFile } from './optional-file.js';

/**
 * A cgroup's files as last read: one object per cgroup, updated in place by each read. Cumulative counters
 * (I/O) become rates in the collector; CPU time, read on its own every sample, is the collector's to keep.
 */
export interface CgroupReading {
  /** The CPU quota in cores; null without one. */
  cpuLimitCores: number | null;
  /** Bytes in use less the inactive file cache (what the kernel would not reclaim first). */
  memory: number | null;
  memoryLimit: number | null;
  /** Bytes read and written since the cgroup was made; null without the io/blkio controller. */
  ioRead: number | null;
  ioWrite: number | null;
  /** `pids.current`: tasks, threads included. */
  tasks: number | null;
  /** A new object whenever it is read (a published sample holds it), never changed in place. */
  pressure: ContainerPressure | null;
}

/**
 * `memory.stat` (read for its inactive page cache, subtracted from the usage) is the dearest file of a busy
 * container: the kernel formats some sixty counters per read. It is read again when the usage has moved by
 * more than 1 % (and 1 MiB) since it was last read (page cache read in, freed or reclaimed moves both), else
 * with every this-many-th reading: pages also move between the kernel's active and inactive lists without the usage
 * moving (a page read again turns active; reclaim near the limit turns pages inactive).
 */
export const MEMORY_STAT_EVERY = 3;
const USAGE_MOVED = 0.01;
/** A small container's usage moves by more than 1 % with every process it starts; its whole page cache is less. */
const USAGE_MOVED_BYTES = 1024 * 1024;

/**
 * A cgroup's files under one layout, each kept open after its first read. `procs()` is read for every
 * cgroup; the counters only for those that hold processes. The files read every sample are parsed from
 * bytes in place; the rest as text.
 */
export class CgroupFiles {
  private readonly procsFile: OptionalFile;
  private readonly files = new Map<string, OptionalFile>();
  /** What `read()` last found; the limits in it as of the last read `withLimits` (or the first). */
  readonly reading: CgroupReading = {
    cpuLimitCores: null,
    memory: null,
    memoryLimit: null,
    ioRead: null,
    ioWrite: null,
    tasks: null,
    pressure: null,
  };
  private limitsRead = false;
  /** The inactive page cache as last read from `memory.stat` (0 without it), the usage then, and the readings since; -1: never read. */
  private inactive = 0;
  private inactiveUsage = 0;
  private inactiveReadingsAgo = -1;

  /** `keepOpen` false opens and closes each file per read: for cgroups past the collector's descriptor budget. */
  constructor(
    private readonly layout: CgroupLayout,
    private readonly path: string,
    discoveryRoot: string,
    readonly keepOpen: boolean,
  ) {
    this.procsFile = new OptionalFile(`${discoveryRoot}${path}/cgroup.procs`, keepOpen);
  }

  /** How many processes the cgroup holds itself, and the lowest pid; `first` is null for one that only holds others. */
  procs(): { count: number; first: number | null } {
    const bytes = this.procsFile.bytes();
    return bytes ? procsSummary(bytes) : { count: 0, first: null };
  }

  /** CPU time used since the cgroup was made, microseconds: one file, read every sample. */
  cpuUsec(): number | null {
    if (this.layout.version === 2) return this.keyed(this.layout.root, 'cpu.stat', 'usage_usec') ?? null;
    const usageNs = this.number(this.layout.cpuacct, 'cpuacct.usage');
    return usageNs === null ? null : usageNs / 1000;
  }

  /** `pids.current`: tasks (threads included) in the cgroup and below it; null without the pids controller. */
  tasks(): number | null {
    return this.number(this.layout.version === 2 ? this.layout.root : this.layout.pids, 'pids.current');
  }

  /**
   * Every other counter, with `tasks` as just read, into `reading` (and returned); the limits, which seldom
   * change, are read again only with `withLimits` (and the first time).
   */
  read(tasks: number | null, withLimits: boolean): CgroupReading {
    const layout = this.layout;
    if (withLimits || !this.limitsRead) {
      if (layout.version === 2) this.readLimitsV2(layout.root);
      else this.readLimitsV1(layout);
      this.limitsRead = true;
    }
    if (layout.version === 2) this.readV2(layout.root, withLimits);
    else this.readV1(layout, withLimits);
    this.reading.tasks = tasks;
    return this.reading;
  }

  close(): void {
    this.procsFile.close();
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }

  /** A control file, made once and found by name after (each name lives in one hierarchy, or the one v2 tree). */
  private file(root: string | null, name: string): OptionalFile | null {
    if (root === null) return null;
    let file = this.files.get(name);
    if (!file) {
      file = new OptionalFile(`${root}${this.path}/${name}`, this.keepOpen);
      this.files.set(name, file);
    }
    return file;
  }

  private text(root: string | null, name: string): string | null {
    return this.file(root, name)?.read() ?? null;
  }

  /** A single-value file (`memory.current`, `pids.current`, `cpuacct.usage`). */
  private number(root: string | null, name: string): number | null {
    const bytes = this.file(root, name)?.bytes();
    return bytes ? decimalAt(bytes) : null;
  }

  /** One key of a `key value` file (`memory.stat`, `cpu.stat`); undefined when the file is missing. */
  private keyed(root: string | null, name: string, key: string): number | null | undefined {
    const bytes = this.file(root, name)?.bytes();
    return bytes ? keyValue(bytes, key) : undefined;
  }

  private readLimitsV2(root: string): void {
    const cpuMax = this.text(root, 'cpu.max');
    const memoryMax = this.text(root, 'memory.max');
    this.reading.cpuLimitCores = cpuMax === null ? null : parseCpuMax(cpuMax);
    this.reading.memoryLimit = memoryMax === null ? null : parseMemoryLimit(memoryMax);
  }

  private readLimitsV1(layout: Extract<CgroupLayout, { version: 1 }>): void {
    const quota = this.text(layout.cpu, 'cpu.cfs_quota_us');
    const period = this.text(layout.cpu, 'cpu.cfs_period_us');
    const limit = this.text(layout.memory, 'memory.limit_in_bytes');
    this.reading.cpuLimitCores = quota === null || period === null ? null : cpuQuotaCores(Number(quota.trim()), Number(period.trim()));
    this.reading.memoryLimit = limit === null ? null : parseMemoryLimit(limit);
  }

  /**
   * Bytes in use less the inactive page cache. `memory.stat` is read again when `fresh` (a full read), when
   * the usage moved (see MEMORY_STAT_EVERY), or every MEMORY_STAT_EVERY-th reading; without it (undefined),
   * the usage as it is.
   */
  private memoryInUse(root: string | null, usageFile: string, inactiveKey: string, fresh: boolean): number | null {
    const usage = this.number(root, usageFile);
    if (usage === null) return null;
    const ago = this.inactiveReadingsAgo;
    if (fresh || ago === -1 || ago + 1 >= MEMORY_STAT_EVERY || usageMoved(this.inactiveUsage, usage)) {
      this.inactive = this.keyed(root, 'memory.stat', inactiveKey) ?? 0;
      this.inactiveUsage = usage;
      this.inactiveReadingsAgo = 0;
    } else {
      this.inactiveReadingsAgo = ago + 1;
    }
    return Math.max(0, usage - this.inactive);
  }

  private readV2(root: string, fresh: boolean): void {
    this.reading.memory = this.memoryInUse(root, 'memory.current', 'inactive_file', fresh);
    const ioStat = this.file(root, 'io.stat')?.bytes() ?? null;
    this.reading.ioRead = ioStat === null ? null : ioStatSum(ioStat, 'rbytes');
    this.reading.ioWrite = ioStat === null ? null : ioStatSum(ioStat, 'wbytes');
    const cpu = this.pressureSome(root, 'cpu.pressure');
    const memory = this.pressureSome(root, 'memory.pressure');
    const io = this.pressureSome(root, 'io.pressure');
    this.reading.pressure = cpu === null && memory === null && io === null ? null : { cpu: cpu ?? 0, memory: memory ?? 0, io: io ?? 0 };
  }

  private readV1(layout: Extract<CgroupLayout, { version: 1 }>, fresh: boolean): void {
    // v1 counts the whole subtree under `total_*`; the cgroup's own `inactive_file` misses its children's.
    this.reading.memory = this.memoryInUse(layout.memory, 'memory.usage_in_bytes', 'total_inactive_file', fresh);
    const blkio = this.file(layout.blkio, 'blkio.throttle.io_service_bytes')?.bytes() ?? null;
    this.reading.ioRead = blkio === null ? null : blkioSum(blkio, 'Read');
    this.reading.ioWrite = blkio === null ? null : blkioSum(blkio, 'Write');
  }

  /** A `*.pressure` file's `some avg10`; null when the file is missing or has no such line. */
  private pressureSome(root: string, name: string): number | null {
    const bytes = this.file(root, name)?.bytes();
    return bytes ? pressureSomeAvg10(bytes) : null;
  }
}

/** Whether the usage moved by more than 1 % and 1 MiB since `before`. */
function usageMoved(before: number, now: number): boolean {
  return Math.abs(now - before) > Math.max(USAGE_MOVED_BYTES, before * USAGE_MOVED);
}
