import { join } from 'node:path';
import type { ContainerPressure } from '../protocol.js';
import type { CgroupLayout } from './cgroup-layout.js';
import {
  cpuQuotaCores,
  type IoBytes,
  parseBlkioServiceBytes,
  parseCpuMax,
  parseFlatKeyed,
  parseIoStat,
  parseMemoryLimit,
  parsePressureSome,
  parseProcs,
  parseSingleValue,
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
 * A cgroup's files under one layout, each kept open after its first read. `procs()` is cheap and read for
 * every cgroup; the counters only for those that hold processes.
 */
export class CgroupFiles {
  private readonly procsFiles: OptionalFile[];
  private readonly files = new Map<string, OptionalFile>();

  /** `keepOpen` false opens and closes each file per read: for cgroups past the collector's descriptor budget. */
  constructor(
    private readonly layout: CgroupLayout,
    private readonly path: string,
    discoveryRoots: string[],
    private readonly keepOpen: boolean,
  ) {
    this.procsFiles = discoveryRoots.map((root) => new OptionalFile(join(root, path, 'cgroup.procs'), keepOpen));
  }

  /** The pids in this cgroup (in the first hierarchy that lists any); empty for a cgroup that only holds others. */
  procs(): number[] {
    for (const file of this.procsFiles) {
      const text = file.read();
      if (text) {
        const pids = parseProcs(text);
        if (pids.length > 0) return pids;
      }
    }
    return [];
  }

  read(): CgroupReading {
    return this.layout.version === 2 ? this.readV2(this.layout.root) : this.readV1(this.layout);
  }

  close(): void {
    for (const file of this.procsFiles) file.close();
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }

  private text(root: string | null, name: string): string | null {
    if (root === null) return null;
    const path = join(root, this.path, name);
    let file = this.files.get(path);
    if (!file) {
      file = new OptionalFile(path, this.keepOpen);
      this.files.set(path, file);
    }
    return file.read();
  }

  private readV2(root: string): CgroupReading {
    const cpuStat = this.text(root, 'cpu.stat');
    const cpuMax = this.text(root, 'cpu.max');
    const current = this.text(root, 'memory.current');
    const memoryStat = this.text(root, 'memory.stat');
    const memoryMax = this.text(root, 'memory.max');
    const ioStat = this.text(root, 'io.stat');
    const tasks = this.text(root, 'pids.current');
    const cpuPressure = this.text(root, 'cpu.pressure');
    const memoryPressure = this.text(root, 'memory.pressure');
    const ioPressure = this.text(root, 'io.pressure');
    return {
      cpuUsec: cpuStat === null ? null : (parseFlatKeyed(cpuStat).get('usage_usec') ?? null),
      cpuLimitCores: cpuMax === null ? null : parseCpuMax(cpuMax),
      memory: memoryInUse(current, memoryStat, 'inactive_file'),
      memoryLimit: memoryMax === null ? null : parseMemoryLimit(memoryMax),
      io: ioStat === null ? null : parseIoStat(ioStat),
      tasks: tasks === null ? null : parseSingleValue(tasks),
      pressure: pressureOf(cpuPressure, memoryPressure, ioPressure),
    };
  }

  private readV1(layout: Extract<CgroupLayout, { version: 1 }>): CgroupReading {
    const usage = this.text(layout.cpuacct, 'cpuacct.usage');
    const quota = this.text(layout.cpu, 'cpu.cfs_quota_us');
    const period = this.text(layout.cpu, 'cpu.cfs_period_us');
    const current = this.text(layout.memory, 'memory.usage_in_bytes');
    const memoryStat = this.text(layout.memory, 'memory.stat');
    const limit = this.text(layout.memory, 'memory.limit_in_bytes');
    const blkio = this.text(layout.blkio, 'blkio.throttle.io_service_bytes');
    const tasks = this.text(layout.pids, 'pids.current');
    const usageNs = usage === null ? null : parseSingleValue(usage);
    return {
      cpuUsec: usageNs === null ? null : usageNs / 1000,
      cpuLimitCores: quota === null || period === null ? null : cpuQuotaCores(Number(quota.trim()), Number(period.trim())),
      // v1 counts the whole subtree under `total_*`; the cgroup's own `inactive_file` misses its children's.
      memory: memoryInUse(current, memoryStat, 'total_inactive_file'),
      memoryLimit: limit === null ? null : parseMemoryLimit(limit),
      io: blkio === null ? null : parseBlkioServiceBytes(blkio),
      tasks: tasks === null ? null : parseSingleValue(tasks),
      pressure: null,
    };
  }
}

function memoryInUse(current: string | null, stat: string | null, inactiveKey: string): number | null {
  const usage = current === null ? null : parseSingleValue(current);
  if (usage === null) return null;
  const inactive = stat === null ? 0 : (parseFlatKeyed(stat).get(inactiveKey) ?? 0);
  return Math.max(0, usage - inactive);
}

function pressureOf(cpu: string | null, memory: string | null, io: string | null): ContainerPressure | null {
  const figures = [cpu, memory, io].map((text) => (text === null ? null : parsePressureSome(text)));
  if (figures.every((figure) => figure === null)) return null;
  const [cpuSome, memorySome, ioSome] = figures;
  return { cpu: cpuSome ?? 0, memory: memorySome ?? 0, io: ioSome ?? 0 };
}
