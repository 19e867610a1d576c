import type { CgroupFiles } from './cgroup-counters.js';
import type { CgroupIdentity } from './container-identity.js';
import { OptionalFile } from './optional-file.js';
import { perSecond } from './rate.js';

/** What is read once per first process of a container: its short command line and its network namespace. */
export interface FirstProcess {
  pid: number;
  command: string;
  netns: string | null;
}

/**
 * One cgroup the walk found, kept from sample to sample and updated in place: its open files, what its path
 * says, its counters as last read and its rates since the reading before. A sample makes no object per
 * container but the entries it publishes (those are new each time: a published sample never changes).
 */
export class ContainerState {
  /** The sample that last found this cgroup in the walk, and the last that found a process in it. */
  seenAt = -1;
  heldAt = -1;
  /** `cgroup.procs` as last read (a container that holds processes) and `pids.current` then (null without it). */
  processes = 0;
  firstPid = 0;
  tasksAtProcs: number | null = null;
  firstProcess: FirstProcess | null = null;
  /** `/proc/<pid>/net/dev` of the first process, kept open while that process is the first. */
  private netDev: { pid: number; file: OptionalFile } | null = null;

  /** CPU time as last read (every sample), and when. */
  cpuUsec: number | null = null;
  private cpuT = 0;
  /** The other counters as last read (a quiet container's wait), and when. */
  private ioReadBytes: number | null = null;
  private ioWriteBytes: number | null = null;
  private netRxBytes: number | null = null;
  private netTxBytes: number | null = null;
  private countersT = 0;

  /** Rates since the reading before: percent of one core, bytes per second; null on a first reading or without the counter. */
  cpu: number | null = null;
  cpuOfLimit: number | null = null;
  ioRead: number | null = null;
  ioWrite: number | null = null;
  netRx: number | null = null;
  netTx: number | null = null;

  constructor(
    readonly path: string,
    readonly files: CgroupFiles,
    readonly identity: CgroupIdentity,
  ) {}

  /** The first process's `net/dev` (its network namespace's counters), opened again only when the first process changes. */
  netDevOf(procRoot: string, pid: number): OptionalFile {
    if (this.netDev?.pid !== pid) {
      this.netDev?.file.close();
      this.netDev = { pid, file: new OptionalFile(`${procRoot}/${pid}/net/dev`, this.files.keepOpen) };
    }
    return this.netDev.file;
  }

  close(): void {
    this.files.close();
    this.netDev?.file.close();
    this.netDev = null;
  }

  /** Memory in use as last read: what the memory ranking reads. */
  get memory(): number | null {
    return this.files.reading.memory;
  }

  /** CPU time just read at `t`: its rate since the previous sample when `hadPrevious` (the container held processes then). */
  cpuRead(t: number, hadPrevious: boolean, cpuUsec: number | null): void {
    const rate = hadPrevious ? rateOrNull(this.cpuUsec, cpuUsec, t - this.cpuT) : null;
    this.cpu = rate === null ? null : round1(rate / 10_000);
    const limit = this.files.reading.cpuLimitCores;
    this.cpuOfLimit = this.cpu === null || limit === null ? null : round1(this.cpu / limit);
    this.cpuUsec = cpuUsec;
    this.cpuT = t;
  }

  /** I/O and network counters just read at `t`: their rates since they were last read, when `hadPrevious`. */
  countersRead(
    t: number,
    hadPrevious: boolean,
    ioRead: number | null,
    ioWrite: number | null,
    netRx: number | null,
    netTx: number | null,
  ): void {
    const elapsed = t - this.countersT;
    this.ioRead = hadPrevious ? counterRate(this.ioReadBytes, ioRead, elapsed) : null;
    this.ioWrite = hadPrevious ? counterRate(this.ioWriteBytes, ioWrite, elapsed) : null;
    this.netRx = hadPrevious ? counterRate(this.netRxBytes, netRx, elapsed) : null;
    this.netTx = hadPrevious ? counterRate(this.netTxBytes, netTx, elapsed) : null;
    this.ioReadBytes = ioRead;
    this.ioWriteBytes = ioWrite;
    this.netRxBytes = netRx;
    this.netTxBytes = netTx;
    this.countersT = t;
  }

  /** I/O and network counters not read again (a quiet container's): a rate of 0 while they wait, then the rate over the whole wait. */
  countersWaited(): void {
    this.ioRead = zeroOrNull(this.ioReadBytes);
    this.ioWrite = zeroOrNull(this.ioWriteBytes);
    this.netRx = zeroOrNull(this.netRxBytes);
    this.netTx = zeroOrNull(this.netTxBytes);
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;

function rateOrNull(before: number | null, now: number | null, elapsedMs: number): number | null {
  return before === null || now === null || elapsedMs <= 0 ? null : perSecond(before, now, elapsedMs);
}

/** A whole number of bytes per second; 0 when read twice at one time. */
function counterRate(before: number | null, now: number | null, elapsedMs: number): number | null {
  if (before === null || now === null) return null;
  if (elapsedMs === 0) return 0;
  return elapsedMs > 0 ? Math.round(perSecond(before, now, elapsedMs)) : null;
}

function zeroOrNull(counter: number | null): number | null {
  return counter === null ? null : 0;
}
