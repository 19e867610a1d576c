import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * On 2 cores the load generator and the server must not fight for one: servers run on CPU 0 and the
 * bench process (the load generator) on CPU 1, when taskset is there.
 */
export const TASKSET = existsSync('/usr/bin/taskset') ? '/usr/bin/taskset' : null;

export interface Started {
  child: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Servers run on this CPU, the load generators and the browser on the other. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;
/**
 * Open files for fan-out servers and client processes (10 000 sockets and more): 65 535, or the hard limit
 * when that is lower (in a container without CAP_SYS_RESOURCE even root cannot raise it).
 */
export const MANY_FILES = Math.min(65_535, Number(execFileSync('/bin/sh', ['-c', 'ulimit -Hn']).toString().trim()) || 65_535);

export interface LaunchOptions {
  cpu?: number;
  /** Raises the open-file limit first (`ulimit -n`, through sh). */
  fileLimit?: number;
}

/** The command line that runs `command` pinned to a CPU and with a raised open-file limit, as asked. */
export function launchLine(command: string, args: string[], options: LaunchOptions = {}): [string, string[]] {
  const cpu = options.cpu ?? SERVER_CPU;
  let line: string[] = TASKSET ? [TASKSET, '-c', String(cpu), command, ...args] : [command, ...args];
  // `"$@"` passes the arguments through untouched; sh, taskset and node each exec the next: one pid.
  if (options.fileLimit) line = ['/bin/sh', '-c', `ulimit -n ${options.fileLimit} && exec "$@"`, 'sh', ...line];
  return [line[0] as string, line.slice(1)];
}

/** Starts a process and waits for its `listening on <url>` line. */
export function startProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  ready = /listening on (http:\/\/\S+?)\/?(\s|$)/,
  options: LaunchOptions = {},
): Promise<Started> {
  const [file, argv] = launchLine(command, args, options);
  const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line from ${command} ${args.join(' ')}:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        child,
        pid: child.pid as number,
        url: (match[1] as string).replace(/\/$/, ''),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3000).unref();
          }),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${command} exited ${code}:\n${output}`)));
  });
}

/** CPU seconds used so far by a process and its waited-for children (utime+stime+cutime+cstime). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 14..17 of the full line are index 11..14 here.
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return ticks / 100;
}

/**
 * CPU seconds used so far by a process, to the nanosecond: the kernel's run time of each of its threads
 * (`/proc/<pid>/task/<tid>/schedstat`, first field), plus its waited-for children's ticks. /proc/<pid>/stat
 * counts in 10 ms ticks: over the idle bench's minute that is steps of 0.017 % of a core, a sixth of the
 * 0.1 % target. Threads that exit before the second reading take their time with them, so this is for a
 * process whose threads live as long as it does (Node's do, at idle). Ticks where schedstat is missing.
 */
export function cpuSecondsFine(pid: number): number {
  if (!existsSync(`/proc/${pid}/schedstat`)) return cpuSeconds(pid);
  let nanoseconds = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread exited between the listing and the read: its time is gone with it, as said above.
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const childTicks = Number(fields[13]) + Number(fields[14]);
  return nanoseconds / 1e9 + childTicks / 100;
}

/** Resident memory of a process, bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The percentile `p` (0-100) of sorted values; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
