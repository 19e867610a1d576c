import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CollectorCost, measureCollectorCosts } from './collector-costs.js';
import { cpuSecondsFine, rssBytes, type Started, sleep, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
// Past start-up, V8's memory reducer (a full collection some 10-20 s after start, ~60 ms of CPU, once) and
// most of V8's tier-up of the once-a-second code: for minutes after start its optimizing compiler keeps
// compiling functions as they warm, on threads of its own (measured: the whole process 2.25 ms of CPU a
// second at 20 s, 1.62 at 5 min, 0.66 → 0.22 of it outside the main thread). A server that runs for weeks
// pays that once. BENCH_IDLE_WARMUP_SECONDS=20 gives the figure of the rounds before.
const WARM_UP_MS = Number(process.env.BENCH_IDLE_WARMUP_SECONDS ?? '300') * 1000;

export interface IdleResult {
  seconds: number;
  /** CPU seconds per second, as % of one core (utime + stime + children's, from /proc). */
  oursPercent: number;
  peerPercent: number;
  /** The process collector with its event-loop lag readings, alone in a Node process: part of `oursPercent`. */
  probePercent: number;
  /** `BENCH_IDLE_BEFORE=<dist>`: another build of ours, idle beside this one in the same window. */
  before: { dist: string; percent: number } | null;
  oursRss: number;
  peerRss: number;
  collectors: CollectorCost[];
  command: string;
}

/**
 * Both servers idle at 1 Hz with no client, side by side on the server CPU, for `seconds` after a warm-up;
 * meanwhile this process times the real collectors one by one (on the other CPU).
 */
export async function benchIdle(seconds: number): Promise<IdleResult> {
  // The default configuration, a data directory included, but a fresh one of its own: in ./data it would share
  // a developer's running server's directory (refused: history off) and leave its files behind.
  const dataDir = mkdtempSync(join(tmpdir(), 'pulseboard-bench-idle-'));
  const serverArgs = (dist: string, dir: string) => [join(dist, 'server/main.js'), '--port', '0', '--data-dir', dir];
  const peerArgs = ['--import', 'tsx', join(ROOT, 'test/bench/apps/express-app.ts'), 'monitored'];
  const beforeDist = process.env.BENCH_IDLE_BEFORE;
  const beforeDir = beforeDist ? mkdtempSync(join(tmpdir(), 'pulseboard-bench-idle-before-')) : null;
  const servers: Started[] = [];
  try {
    const ours = await startProcess(process.execPath, serverArgs(join(ROOT, 'dist'), dataDir));
    servers.push(ours);
    const before = beforeDist && beforeDir ? await startProcess(process.execPath, serverArgs(beforeDist, beforeDir)) : null;
    if (before) servers.push(before);
    const peer = await startProcess(process.execPath, peerArgs);
    servers.push(peer);
    const probe = await startProcess(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/bench/apps/lag-probe.ts')],
      {},
      /(lag probe) running/,
    );
    servers.push(probe);
    // express-status-monitor starts sampling on the first request it sees.
    await fetch(`${peer.url}/`);
    await sleep(WARM_UP_MS);
    const pids = { ours: ours.pid, peer: peer.pid, probe: probe.pid, before: before?.pid };
    const read = () => ({
      cpu: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid === undefined ? 0 : cpuSecondsFine(pid)])),
      at: performance.now(),
    });
    const start = read();
    const collectors = await measureCollectorCosts(seconds);
    const end = read();
    const elapsed = (end.at - start.at) / 1000;
    const percent = (name: keyof typeof pids) => (((end.cpu[name] ?? 0) - (start.cpu[name] ?? 0)) / elapsed) * 100;
    return {
      seconds: elapsed,
      oursPercent: percent('ours'),
      peerPercent: percent('peer'),
      probePercent: percent('probe'),
      before: beforeDist ? { dist: beforeDist, percent: percent('before') } : null,
      oursRss: rssBytes(ours.pid),
      peerRss: rssBytes(peer.pid),
      collectors,
      command: `node dist/server/main.js --port 0 --data-dir <a fresh temp dir> vs node --import tsx test/bench/apps/express-app.ts monitored; CPU of every thread (/proc/<pid>/task/*/schedstat, ns) over ${seconds} s after ${WARM_UP_MS / 1000} s; collectors timed in-process (test/bench/collector-costs.ts)`,
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    if (beforeDir) rmSync(beforeDir, { recursive: true, force: true });
  }
}
