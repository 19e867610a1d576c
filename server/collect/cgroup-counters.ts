import type { ContainerPressure } from '../protocol.js';
import type { CgroupLayout } from './cgroup-layout.js';
import {
  blkioSum,
  cpuQuotaCores,
  decimalAt,
  type IoBytes,
  ioStatSum,
  keyValue,
  parseCpuMax,
  parseMemoryLimit,
  pressureSomeAvg10,
  procsSummary,
} from './cgroup-parse.js';
import { OptionalFile } from './optional-file.js';

/** One reading of a cgroup's files. Cumulative counters (CPU, I/O) become rates in the collector. */
export interface CgroupReading {
  /** CPU time used since the cgroup was made, microseconds; null without the cpu/cpuacct controller. */
  cpuUsec: number | null;
  /** The CPU quota in cores; null without one. */
  cpuLimitCores: number | null;
  /** Bytes in use less the inactive file cache (what the kernel would not reclaim first). */
  memory: number | null;
  memoryLimit: number | null;
  /** Bytes read and written since the cgroup was made. */
  io: IoBytes | null;
  /** `pids.current`: tasks, threads included. */
  tasks: number | null;
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

type Limits = Pick<CgroupReading, 'cpuLimitCores' | 'memoryLimit'>;
type Counters = Omit<CgroupReading, 'cpuUsec' | 'cpuLimitCores' | 'memoryLimit' | 'tasks'>;

/**
 * A cgroup's files under one layout, each kept open after its first read. `procs()` is read for every
 * cgroup; the counters only for those that hold processes. The files read every sample are parsed from
 * bytes in place; the rest as text.
 */
export class CgroupFiles {
  private readonly procsFile: OptionalFile;
  private readonly files = new Map<string, OptionalFile>();
  private limits: Limits | null = null;
  private last: CgroupReading | null = null;
  /** The inactive page cache as last read from `memory.stat`, the usage then, and the readings since. */
  private inactive: { value: number | null | undefined; usage: number; readingsAgo: number } | null = null;

  /** `keepOpen` false opens and closes each file per read: for cgroups past the collector's descriptor budget. */
  constructor(
    private readonly layout: CgroupLayout,
    private readonly path: string,
    discoveryRoot: string,
    private readonly keepOpen: boolean,
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
   * Every other counter, with `cpuUsec` and `tasks` as just read; the limits, which seldom change, are read
   * again only with `withLimits` (and the first time).
   */
  read(cpuUsec: number | null, tasks: number | null, withLimits: boolean): CgroupReading {
    if (withLimits || this.limits === null) {
      this.limits = this.layout.version === 2 ? this.limitsV2(this.layout.root) : this.limitsV1(this.layout);
    }
    const counters = this.layout.version === 2 ? this.readV2(this.layout.root, withLimits) : this.readV1(this.layout, withLimits);
    this.last = { cpuUsec, tasks, ...counters, ...this.limits };
    return this.last;
  }

  /** The last full reading with `cpuUsec` as just read; a full read when there is none yet. */
  reuse(cpuUsec: number | null): CgroupReading {
    return this.last ? { ...this.last, cpuUsec } : this.read(cpuUsec, this.tasks(), false);
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

  private limitsV2(root: string): Limits {
    const cpuMax = this.text(root, 'cpu.max');
    const memoryMax = this.text(root, 'memory.max');
    return {
      cpuLimitCores: cpuMax === null ? null : parseCpuMax(cpuMax),
      memoryLimit: memoryMax === null ? null : parseMemoryLimit(memoryMax),
    };
  }

  private limitsV1(layout: Extract<CgroupLayout, { version: 1 }>): Limits {
    const quota = this.text(layout.cpu, 'cpu.cfs_quota_us');
    const period = this.text(layout.cpu, 'cpu.cfs_period_us');
    const limit = this.text(layout.memory, 'memory.limit_in_bytes');
    return {
      cpuLimitCores: quota === null || period === null ? null : cpuQuotaCores(Number(quota.trim()), Number(period.trim())),
      memoryLimit: limit === null ? null : parseMemoryLimit(limit),
    };
  }

  /**
   * Bytes in use less the inactive page cache. `memory.stat` is read again when `fresh` (a full read), when
   * the usage moved (see MEMORY_STAT_EVERY), or every MEMORY_STAT_EVERY-th reading; without it (undefined),
   * the usage as it is.
   */
  private memoryInUse(root: string | null, usageFile: string, inactiveKey: string, fresh: boolean): number | null {
    const usage = this.number(root, usageFile);
    if (usage === null) return null;
    const last = this.inactive;
    if (fresh || last === null || last.readingsAgo + 1 >= MEMORY_STAT_EVERY || usageMoved(last.usage, usage)) {
      this.inactive = { value: this.keyed(root, 'memory.stat', inactiveKey), usage, readingsAgo: 0 };
    } else {
      last.readingsAgo++;
    }
    return Math.max(0, usage - (this.inactive?.value ?? 0));
  }

  private readV2(root: string, fresh: boolean): Counters {
    const memory = this.memoryInUse(root, 'memory.current', 'inactive_file', fresh);
    const ioStat = this.file(root, 'io.stat')?.bytes() ?? null;
    const io = ioStat === null ? null : { read: ioStatSum(ioStat, 'rbytes'), write: ioStatSum(ioStat, 'wbytes') };
    const cpu = this.pressureSome(root, 'cpu.pressure');
    const memoryPressure = this.pressureSome(root, 'memory.pressure');
    const ioPressure = this.pressureSome(root, 'io.pressure');
    const pressure =
      cpu === null && memoryPressure === null && ioPressure === null
        ? null
        : { cpu: cpu ?? 0, memory: memoryPressure ?? 0, io: ioPressure ?? 0 };
    return { memory, io, pressure };
  }

  private readV1(layout: Extract<CgroupLayout, { version: 1 }>, fresh: boolean): Counters {
    // v1 counts the whole subtree under `total_*`; the cgroup's own `inactive_file` misses its children's.
    const memory = this.memoryInUse(layout.memory, 'memory.usage_in_bytes', 'total_inactive_file', fresh);
    const blkio = this.file(layout.blkio, 'blkio.throttle.io_service_bytes')?.bytes() ?? null;
    return {
      memory,
      io: blkio === null ? null : { read: blkioSum(blkio, 'Read'), write: blkioSum(blkio, 'Write') },
      pressure: null,
    };
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
