// Server RSS and warm query CPU of one or more builds on copies of one 30-day demo store, one build after the
// other in one run (the machine is shared: compare builds within a run). Not part of `npm run bench`.
//
//   node dist/server/main.js demo --days 30 --data-dir /tmp/demo-30d
//   HISTORY_AB_STORE=/tmp/demo-30d HISTORY_AB_BUILDS=before=/tmp/old/dist/server/main.js,after=dist/server/main.js \
//   HISTORY_AB_ENV_after="LD_PRELOAD=libjemalloc.so.2" node --import tsx test/bench/history-memory-ab.mts
//
// Per build: VmRSS 30 s after start; the page's 24h, 7d, 30d and 1y windows and 50 mixed queries (the history
// bench's); VmRSS 1 s, 30 s and 60 s after the last; then warm CPU per query of the 24h, 7d and 30d windows
// (median of 12, 1.1 s apart so that each is built again, /proc/<pid>/stat, 10 ms ticks). One JSON line each.
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEMORY_WINDOWS, mixedRanges } from './history-memory.js';
import { cpuSeconds, median, sleep, startProcess } from './procs.js';

const DAY = 24 * 3_600_000;
const TOPICS = 'cpu,memory,network,disk,temperature,process,requests';
const builds = (process.env.HISTORY_AB_BUILDS ?? '').split(',').filter(Boolean);
const store = process.env.HISTORY_AB_STORE ?? '';
const rounds = Number(process.env.HISTORY_AB_ROUNDS ?? 1);
if (builds.length === 0 || store === '') {
  process.stderr.write('set HISTORY_AB_BUILDS=<label>=<main.js>,... and HISTORY_AB_STORE=<30-day demo store>\n');
  process.exit(2);
}

function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: Math.round(kb('VmRSS') / 100) / 10, peak: Math.round(kb('VmHWM') / 100) / 10 };
}

async function query(url: string, from: number, to: number): Promise<void> {
  const response = await fetch(`${url}/api/history?topics=${TOPICS}&from=${Math.round(from)}&to=${Math.round(to)}&points=1400`, {
    headers: { 'accept-encoding': 'gzip' },
  });
  if (!response.ok) throw new Error(`/api/history: HTTP ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

for (let round = 0; round < rounds; round++) {
  for (const build of builds) {
    const [label, main] = build.split('=') as [string, string];
    const dir = join(tmpdir(), `pulseboard-history-ab-${label}`);
    rmSync(dir, { recursive: true, force: true });
    cpSync(store, dir, { recursive: true });
    const env = Object.fromEntries(
      (process.env[`HISTORY_AB_ENV_${label}`] ?? '')
        .split(' ')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]),
    );
    const server = await startProcess(process.execPath, [main, '--port', '0', '--data-dir', dir], env);
    const row: Record<string, unknown> = { label, round };
    try {
      await sleep(30_000);
      row.idle30 = rssMb(server.pid).rss;
      const end = Date.now();
      for (const [, span] of MEMORY_WINDOWS) await query(server.url, end - span, end);
      for (const [from, to] of mixedRanges(end)) await query(server.url, from, to);
      await sleep(1000);
      const after = rssMb(server.pid);
      row.after = after.rss;
      row.peak = after.peak;
      await sleep(29_000);
      row.s30 = rssMb(server.pid).rss;
      await sleep(30_000);
      row.s60 = rssMb(server.pid).rss;
      for (const [window, span] of [
        ['24h', DAY],
        ['7d', 7 * DAY],
        ['30d', 30 * DAY],
      ] as const) {
        const costs: number[] = [];
        for (let i = 0; i < 13; i++) {
          await sleep(1100);
          const now = Date.now();
          const before = cpuSeconds(server.pid);
          await query(server.url, now - span, now);
          if (i > 0) costs.push((cpuSeconds(server.pid) - before) * 1000);
        }
        row[`cpu${window}`] = Math.round(median(costs));
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(JSON.stringify(row));
  }
}
