import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import si from 'systeminformation';
import type { ProcessesSample, ProcessInfo } from '../protocol.js';
import type { Collector } from './collector.js';
import { shortCommand } from './command-line.js';
import { readProcessDetails, type UserNames } from './process-details.js';
import { type ProcessStat, parseProcessStat } from './procfs-parse.js';

/** What the stat file gives of a process; the listed ones get their details after the ranking. */
interface Counted {
  pid: number;
  comm: string;
  cpu: number;
  rss: number;
}

/** Listed per ranking: the top this many by CPU, and by memory. */
export const TOP_PER_RANKING = 8;
/** Linux exposes CPU times to user space in USER_HZ, which is 100 on every architecture it supports. */
const TICKS_PER_SECOND = 100;

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * The top processes by CPU, then the largest by memory not already listed, up to twice `perRanking`:
 * either ranking's top `perRanking` is always in, and the list has the same length from sample to sample.
 */
export function topProcesses<P extends Pick<ProcessInfo, 'pid' | 'cpu' | 'rss'>>(all: P[], perRanking = TOP_PER_RANKING): P[] {
  const byCpu = [...all].sort((a, b) => b.cpu - a.cpu || b.rss - a.rss).slice(0, perRanking);
  const listed = new Set(byCpu.map((p) => p.pid));
  const byMemory = [...all].sort((a, b) => b.rss - a.rss).filter((p) => !listed.has(p.pid));
  return [...byCpu, ...byMemory.slice(0, 2 * perRanking - byCpu.length)];
}

export interface ProcessNaming {
  /** The passwd file user names come from. */
  users: UserNames;
  /** The container name of a cgroup path, as the containers topic shows it. */
  containerOf: (cgroup: string) => string;
}

/**
 * From /proc/<pid>/stat: one small synchronous read per process, every few seconds (a few ms for 300
 * processes; measured by the bench). CPU is the tick delta since the previous sample; a pid is matched
 * with its start time, so a reused pid does not inherit another process's ticks. The listed processes
 * alone get their command line, user and container read (three more small reads each).
 */
export function procfsProcessesCollector(
  cadenceMs: number,
  pageSize: number,
  naming: ProcessNaming,
  procRoot = '/proc',
): Collector<'processes'> {
  const buffer = Buffer.alloc(4096);
  let previous = new Map<string, number>();
  let previousAt = 0;
  const readStat = (pid: string): ProcessStat | null => {
    let fd: number;
    try {
      fd = openSync(`${procRoot}/${pid}/stat`, 'r');
    } catch {
      return null; // exited since the directory was listed
    }
    try {
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      return parseProcessStat(buffer.toString('latin1', 0, length));
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  };
  const sample = (t: number): ProcessesSample => {
    const pids = readdirSync(procRoot).filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57);
    const elapsedSeconds = previousAt > 0 ? (t - previousAt) / 1000 : 0;
    const ticks = new Map<string, number>();
    const all: Counted[] = [];
    for (const pid of pids) {
      const stat = readStat(pid);
      if (!stat) continue;
      const key = `${pid}:${stat.startTicks}`;
      const total = stat.userTicks + stat.systemTicks;
      ticks.set(key, total);
      const before = previous.get(key);
      const cpu = before !== undefined && elapsedSeconds > 0 ? ((total - before) / TICKS_PER_SECOND / elapsedSeconds) * 100 : 0;
      all.push({ pid: Number(pid), comm: stat.name, cpu: round1(Math.max(0, cpu)), rss: stat.rssPages * pageSize });
    }
    previous = ticks;
    previousAt = t;
    const top = topProcesses(all).map(({ pid, comm, cpu, rss }): ProcessInfo => {
      const details = readProcessDetails(procRoot, pid, comm, naming.users);
      const container = details.cgroup === null ? null : naming.containerOf(details.cgroup);
      return { pid, name: details.command, user: details.user, container, cpu, rss };
    });
    return { t, count: all.length, top };
  };
  return {
    topic: 'processes',
    source: 'procfs',
    cadenceMs,
    async init() {
      sample(Date.now()); // baseline ticks, so the first scheduled sample has CPU figures
    },
    sample,
  };
}

/** systeminformation's process list (it runs `ps` on Unix): only where /proc is not there. */
export function portableProcessesCollector(cadenceMs: number): Collector<'processes'> {
  return {
    topic: 'processes',
    source: 'systeminformation',
    cadenceMs,
    async sample(t) {
      const { list } = await si.processes();
      const all = list.map(
        (p): ProcessInfo => ({
          pid: p.pid,
          name: shortCommand([p.path ? `${p.path}/${p.command}` : p.command, ...p.params.split(' ')].join('\0'), p.name),
          user: p.user || '?',
          container: null, // systeminformation does not say
          cpu: round1(p.cpu),
          rss: p.memRss * 1024,
        }),
      );
      return { t, count: all.length, top: topProcesses(all) };
    },
  };
}

/** The kernel's page size, from this process: its RSS in bytes over its RSS in pages (/proc/self/statm). */
export function pageSizeFromStatm(): number {
  const fd = openSync('/proc/self/statm', 'r');
  try {
    const buffer = Buffer.alloc(256);
    const text = buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0));
    const pages = Number(text.split(' ')[1]);
    const ratio = process.memoryUsage.rss() / pages;
    // Round to the nearest power of two: RSS moved a little between the two reads.
    return 2 ** Math.round(Math.log2(ratio));
  } finally {
    closeSync(fd);
  }
}
