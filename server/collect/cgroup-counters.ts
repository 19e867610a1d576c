import type { ContainerPressure } from '../protocol.js';
import type { CgroupLayout } from './cgroup-layout.js';
import {
  blkioSum,
  cpuMaxCores,
  cpuQuotaCores,
  decimalAt,
  ioStatSum,
  keyValue,
  memoryLimitOf,
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
/**
 * A busy container's three `*.pressure` files (v2) are read with every this-many-th reading (and on its
 * full-read turn): `some avg10` is itself the share of the last 10 s, so read every other 5 s sample it is
 * never older than its own window, and every other sample of a busy v2 container reads three files fewer.
 */
export const PRESSURE_EVERY = 2;
/** A small container's usage moves by more than 1 % with every process it starts; its whole page cache is less. */
const USAGE_MOVED_BYTES = 1024 * 1024;

/** A cgroup's control files under one layout; null where its controller is not mounted (v1). */
interface ControlFiles {
  /** v2 `cpu.stat` (`usage_usec`), v1 `cpuacct.usage` (nanoseconds). */
  cpu: OptionalFile | null;
  tasks: OptionalFile | null;
  /** v2 `memory.current`, v1 `memory.usage_in_bytes`. */
  usage: OptionalFile | null;
  memoryStat: OptionalFile | null;
  /** v2 `io.stat`, v1 `blkio.throttle.io_service_bytes`. */
  io: OptionalFile | null;
  /** v2 `memory.max`, v1 `memory.limit_in_bytes`. */
  memoryLimit: OptionalFile | null;
  /** v2 `cpu.max`; v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`. */
  cpuMax: OptionalFile | null;
  cpuQuota: OptionalFile | null;
  cpuPeriod: OptionalFile | null;
  /** v2 only: `cpu.pressure`, `memory.pressure`, `io.pressure`. */
  cpuPressure: OptionalFile | null;
  memoryPressure: OptionalFile | null;
  ioPressure: OptionalFile | null;
}

/**
 * A cgroup's files under one layout, each kept open after its first read (made once, each in a field of its
 * own: a sample reads hundreds). `procs()` is read for every cgroup; the counters only for those that hold
 * processes. Every file is parsed from its bytes in place.
 */
export class CgroupFiles {
  private readonly procsFile: OptionalFile;
  private readonly files: ControlFiles;
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
  /** Readings since the pressure files were last read; -1: never read. */
  private pressureReadingsAgo = -1;

  /** `keepOpen` false opens and closes each file per read: for cgroups past the collector's descriptor budget. */
  constructor(
    private readonly layout: CgroupLayout,
    path: string,
    discoveryRoot: string,
    readonly keepOpen: boolean,
  ) {
    this.procsFile = new OptionalFile(`${discoveryRoot}${path}/cgroup.procs`, keepOpen);
    const file = (root: string | null, name: string) => (root === null ? null : new OptionalFile(`${root}${path}/${name}`, keepOpen));
    if (layout.version === 2) {
      const { root } = layout;
      this.files = {
        cpu: file(root, 'cpu.stat'),
        tasks: file(root, 'pids.current'),
        usage: file(root, 'memory.current'),
        memoryStat: file(root, 'memory.stat'),
        io: file(root, 'io.stat'),
        memoryLimit: file(root, 'memory.max'),
        cpuMax: file(root, 'cpu.max'),
        cpuQuota: null,
        cpuPeriod: null,
        cpuPressure: file(root, 'cpu.pressure'),
        memoryPressure: file(root, 'memory.pressure'),
        ioPressure: file(root, 'io.pressure'),
      };
    } else {
      this.files = {
        cpu: file(layout.cpuacct, 'cpuacct.usage'),
        tasks: file(layout.pids, 'pids.current'),
        usage: file(layout.memory, 'memory.usage_in_bytes'),
        memoryStat: file(layout.memory, 'memory.stat'),
        io: file(layout.blkio, 'blkio.throttle.io_service_bytes'),
        memoryLimit: file(layout.memory, 'memory.limit_in_bytes'),
        cpuMax: null,
        cpuQuota: file(layout.cpu, 'cpu.cfs_quota_us'),
        cpuPeriod: file(layout.cpu, 'cpu.cfs_period_us'),
        cpuPressure: null,
        memoryPressure: null,
        ioPressure: null,
      };
    }
  }

  /** How many processes the cgroup holds itself, and the lowest pid; `first` is null for one that only holds others. */
  procs(): { count: number; first: number | null } {
    const bytes = this.procsFile.bytes();
    return bytes ? procsSummary(bytes) : { count: 0, first: null };
  }

  /** CPU time used since the cgroup was made, microseconds: one file, read every sample. */
  cpuUsec(): number | null {
    const bytes = this.files.cpu?.bytes();
    if (!bytes) return null;
    if (this.layout.version === 2) return keyValue(bytes, 'usage_usec');
    const usageNs = decimalAt(bytes);
    return usageNs === null ? null : usageNs / 1000;
  }

  /** `pids.current`: tasks (threads included) in the cgroup and below it; null without the pids controller. */
  tasks(): number | null {
    return numberIn(this.files.tasks);
  }

  /**
   * Every other counter, with `tasks` as just read, into `reading` (and returned); the limits, which seldom
   * change, are read again only with `withLimits` (and the first time).
   */
  read(tasks: number | null, withLimits: boolean): CgroupReading {
    const { files, reading } = this;
    const v2 = this.layout.version === 2;
    if (withLimits || !this.limitsRead) {
      const memoryLimit = files.memoryLimit?.bytes();
      reading.memoryLimit = memoryLimit ? memoryLimitOf(memoryLimit) : null;
      reading.cpuLimitCores = v2 ? this.cpuMaxCores() : this.cpuQuotaCores();
      this.limitsRead = true;
    }
    // v1 counts the whole subtree under `total_*`; the cgroup's own `inactive_file` misses its children's.
    reading.memory = this.memoryInUse(v2 ? 'inactive_file' : 'total_inactive_file', withLimits);
    const io = files.io?.bytes();
    if (!io) {
      reading.ioRead = null;
      reading.ioWrite = null;
    } else if (v2) {
      reading.ioRead = ioStatSum(io, 'rbytes');
      reading.ioWrite = ioStatSum(io, 'wbytes');
    } else {
      reading.ioRead = blkioSum(io, 'Read');
      reading.ioWrite = blkioSum(io, 'Write');
    }
    if (v2) reading.pressure = this.pressure(withLimits);
    reading.tasks = tasks;
    return reading;
  }

  /** The pressure as read now, or as last read (see PRESSURE_EVERY); `fresh` reads it. */
  private pressure(fresh: boolean): ContainerPressure | null {
    const ago = this.pressureReadingsAgo;
    if (!fresh && ago !== -1 && ago + 1 < PRESSURE_EVERY) {
      this.pressureReadingsAgo = ago + 1;
      return this.reading.pressure;
    }
    this.pressureReadingsAgo = 0;
    const { files } = this;
    const cpu = pressureIn(files.cpuPressure);
    const memory = pressureIn(files.memoryPressure);
    const io = pressureIn(files.ioPressure);
    return cpu === null && memory === null && io === null ? null : { cpu: cpu ?? 0, memory: memory ?? 0, io: io ?? 0 };
  }

  close(): void {
    this.procsFile.close();
    for (const file of Object.values(this.files)) file?.close();
  }

  private cpuMaxCores(): number | null {
    const bytes = this.files.cpuMax?.bytes();
    return bytes ? cpuMaxCores(bytes) : null;
  }

  private cpuQuotaCores(): number | null {
    // `-1` (no quota) reads as no number.
    const quota = numberIn(this.files.cpuQuota);
    const period = numberIn(this.files.cpuPeriod);
    return quota === null || period === null ? null : cpuQuotaCores(quota, period);
  }

  /**
   * Bytes in use less the inactive page cache. `memory.stat` is read again when `fresh` (a full read), when
   * the usage moved (see MEMORY_STAT_EVERY), or every MEMORY_STAT_EVERY-th reading; without it, the usage as it is.
   */
  private memoryInUse(inactiveKey: string, fresh: boolean): number | null {
    const usage = numberIn(this.files.usage);
    if (usage === null) return null;
    const ago = this.inactiveReadingsAgo;
    if (fresh || ago === -1 || ago + 1 >= MEMORY_STAT_EVERY || usageMoved(this.inactiveUsage, usage)) {
      const stat = this.files.memoryStat?.bytes();
      this.inactive = (stat ? keyValue(stat, inactiveKey) : null) ?? 0;
      this.inactiveUsage = usage;
      this.inactiveReadingsAgo = 0;
    } else {
      this.inactiveReadingsAgo = ago + 1;
    }
    return Math.max(0, usage - this.inactive);
  }
}

/** A single-value file (`memory.current`, `pids.current`, `cpu.cfs_period_us`); null when missing or not a number. */
function numberIn(file: OptionalFile | null): number | null {
  const bytes = file?.bytes();
  return bytes ? decimalAt(bytes) : null;
}

/** A `*.pressure` file's `some avg10`; null when the file is missing or has no such line. */
function pressureIn(file: OptionalFile | null): number | null {
  const bytes = file?.bytes();
  return bytes ? pressureSomeAvg10(bytes) : null;
}

/** Whether the usage moved by more than 1 % and 1 MiB since `before`. */
function usageMoved(before: number, now: number): boolean {
  return Math.abs(now - before) > Math.max(USAGE_MOVED_BYTES, before * USAGE_MOVED);
}
