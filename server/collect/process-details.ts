import { closeSync, openSync, readFileSync } from 'node:fs';
import { shortCommand } from './command-line.js';
import { readFromStart } from './procfs.js';

/**
 * What the process table shows of a listed process beyond its counters: its short command line, its
 * user and its container. Read only for the few listed processes, each sample (a title like
 * `postgres: checkpointer` may change).
 */
export interface ProcessDetails {
  command: string;
  user: string;
  /** Path of its cgroup, or null in the root cgroup (the host itself). */
  cgroup: string | null;
}

/** User names by uid from a passwd file, read once; a uid not in it is shown as its number. */
export class UserNames {
  private names: Map<number, string> | null = null;

  constructor(private readonly passwdPath = '/etc/passwd') {}

  nameOf(uid: number): string {
    this.names ??= readPasswd(this.passwdPath);
    return this.names.get(uid) ?? String(uid);
  }
}

function readPasswd(path: string): Map<number, string> {
  const names = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return names; // no passwd file (a scratch image): uids as numbers
  }
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid) && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}

/** `/proc/<pid>/status`: the effective uid (the second number of `Uid:`), as `ps` shows for USER. */
export function parseEffectiveUid(status: string): number | null {
  const match = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return match ? Number(match[1]) : null;
}

/**
 * `/proc/<pid>/cgroup`: the process's cgroup path, as the containers topic names it: the memory hierarchy's
 * on cgroup v1 (then cpuacct's), else the unified `0::` line. Null for the root cgroup.
 */
export function parseProcessCgroup(text: string): string | null {
  let unified: string | null = null;
  let cpuacct: string | null = null;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second).split(',');
    const path = line.slice(second + 1);
    if (controllers.includes('memory')) return path === '/' ? null : path;
    if (controllers.includes('cpuacct')) cpuacct = path;
    if (line.startsWith('0::')) unified = path;
  }
  const path = cpuacct !== null && cpuacct !== '/' ? cpuacct : unified;
  return path === null || path === '/' ? null : path;
}

/** One buffer for every details read: readFileSync would allocate one per file (and fstat it first). */
let detailsBuffer = Buffer.alloc(4096);

/** A /proc file's whole text, or null when it cannot be read (the process exited since it was listed, or is hidden from us). */
function readProcFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const { buffer, length } = readFromStart(fd, detailsBuffer);
    detailsBuffer = buffer;
    return buffer.toString('latin1', 0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function readProcessDetails(procRoot: string, pid: number, comm: string, users: UserNames): ProcessDetails {
  const cmdline = readProcFile(`${procRoot}/${pid}/cmdline`);
  const status = readProcFile(`${procRoot}/${pid}/status`);
  const cgroup = readProcFile(`${procRoot}/${pid}/cgroup`);
  const uid = status === null ? null : parseEffectiveUid(status);
  return {
    command: cmdline === null ? comm : shortCommand(cmdline, comm),
    user: uid === null ? '?' : users.nameOf(uid),
    cgroup: cgroup === null ? null : parseProcessCgroup(cgroup),
  };
}
