import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds of each thread group of the Chromium processes below this process, e.g. `renderer main`. */
export type ThreadCpu = Map<string, number>;

const TICKS_PER_SECOND = 100;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // exited meanwhile
  }
}

/** `comm` and utime+stime (s) from a `/proc/.../stat` line (the name may hold spaces and parentheses). */
function parseStat(stat: string): { name: string; parent: number; seconds: number } {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, close),
    parent: Number(fields[1]),
    seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
  };
}

/**
 * A thread's run time to the nanosecond (`schedstat`'s first field), where the kernel keeps it: `stat`'s
 * 10 ms ticks, over a row's 15 updates, moved each thread's figure in steps of 0.67 ms per update.
 */
function runSeconds(pid: number, tid: string): number | null {
  const schedstat = read(`/proc/${pid}/task/${tid}/schedstat`);
  const ns = schedstat === null ? Number.NaN : Number(schedstat.split(' ')[0]);
  return Number.isFinite(ns) ? ns / 1e9 : null;
}

/** The process's role from its command line: `--type=renderer`, `gpu-process`, `utility`…; none is the browser. */
function processType(pid: number): string {
  const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
  return /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
}

/** A thread's group: the process's main thread, or its thread name without the pool's number. */
function threadGroup(pid: number, tid: number, name: string): string {
  if (pid === tid) return 'main';
  if (/^DedicatedWorker/.test(name)) return 'worker';
  if (/^Compositor$/.test(name)) return 'compositor';
  if (/^CompositorTileW|^ThreadPoolForeg/.test(name)) return 'raster/pool';
  if (/^VizCompositor/.test(name)) return 'viz';
  // DevTools' CPU throttling: a thread that stops the main thread by a signal whose handler spins.
  if (/^CPUThrottling|^DevToolsCPUThr/.test(name)) return 'throttler';
  return 'other';
}

/** Per thread group, the CPU seconds so far of every Chromium process started below this one. */
export function chromiumThreadCpu(): ThreadCpu {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (!stat) continue;
    const { name, parent } = parseStat(stat);
    parents.set(Number(entry), parent);
    names.set(Number(entry), name);
  }
  const below = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === process.pid) return true;
    return false;
  };
  const cpu: ThreadCpu = new Map();
  for (const [pid, name] of names) {
    if (!/chrom/i.test(name) || !below(pid)) continue;
    const type = processType(pid);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      const thread = parseStat(stat);
      const key = `${type} ${threadGroup(pid, Number(tid), thread.name)}`;
      cpu.set(key, (cpu.get(key) ?? 0) + (runSeconds(pid, tid) ?? thread.seconds));
    }
  }
  return cpu;
}

/** The CPU each thread group used between two readings, ms, largest first (groups under 0.5 ms left out). */
export function threadSplit(before: ThreadCpu, after: ThreadCpu, per = 1): { group: string; ms: number }[] {
  const split: { group: string; ms: number }[] = [];
  for (const [group, seconds] of after) {
    const ms = ((seconds - (before.get(group) ?? 0)) * 1000) / per;
    if (ms >= 0.5) split.push({ group, ms });
  }
  return split.sort((a, b) => b.ms - a.ms);
}

export function totalMs(before: ThreadCpu, after: ThreadCpu): number {
  let ms = 0;
  for (const [group, seconds] of after) ms += (seconds - (before.get(group) ?? 0)) * 1000;
  return ms;
}
