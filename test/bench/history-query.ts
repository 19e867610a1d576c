import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeDemo } from '../../server/history/demo.js';
import { paintBuilds } from './first-paint.js';
import { median, type Started, sleep, startProcess } from './procs.js';
import type { Row } from './table.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** What the page asks for (web/range-navigator.ts): every charted topic, about two rows per pixel of a 1440-pixel-wide page. */
const TOPICS = 'cpu,memory,network,disk,temperature,process,requests';
const POINTS = 1400;
const WINDOWS = [
  ['24h', DAY],
  ['7d', 7 * DAY],
  ['30d', 30 * DAY],
] as const;
/** Between two queries of one server: under the 5 s after which it lets its caches go (memory settling). */
const SPACING_MS = 1100;
/** Kept-alive connections, as the page's. */
const agent = new Agent({ keepAlive: true });

export interface HistoryQueryResult {
  trials: number;
  builds: {
    build: string;
    windows: {
      window: string;
      /** The first query of the window after start (its segment files not decoded yet). */
      cold: { cpuMs: number; wallMs: number };
      /** Each warm query: the server's CPU (every thread), request to the answer's last byte. */
      cpuMs: number[];
      wallMs: number[];
      gzipBytes: number;
      jsonBytes: number;
      tier: string;
      rows: number;
    }[];
  }[];
  command: string;
}

/** CPU time of every thread of a process so far, ms (`schedstat`: nanoseconds, unlike `stat`'s 10 ms ticks). */
export function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return ns / 1e6;
}

/** The body as sent (fetch would inflate it). */
function getBytes(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'accept-encoding': 'gzip' }, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        response.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`/api/history: HTTP ${response.statusCode}`)),
      );
      response.on('error', reject);
    }).on('error', reject);
  });
}

async function timedQuery(server: Started, span: number): Promise<{ cpuMs: number; wallMs: number; body: Buffer }> {
  const now = Date.now();
  const url = `${server.url}/api/history?topics=${TOPICS}&from=${now - span}&to=${now}&points=${POINTS}`;
  const cpu = threadsCpuMs(server.pid);
  const began = performance.now();
  const body = await getBytes(url);
  const wallMs = performance.now() - began;
  // The server's work for the answer is over once its last byte is here; its sampling in that time counts too (~1 ms).
  return { cpuMs: threadsCpuMs(server.pid) - cpu, wallMs, body };
}

/**
 * Server side of query + first paint: the page's `/api/history` request of the 24 h / 7 d / 30 d windows
 * asked of a server of each build of `BENCH_PAINT_DISTS` on its own copy of one 30-day demo store, the
 * builds' queries alternating: the server's CPU per query (every thread), the time to the answer's last
 * byte, the answer's bytes. `BENCH_QUERY_PROFILE=<dir>`: the servers write V8 CPU profiles there.
 */
export async function benchHistoryQuery(trials: number): Promise<HistoryQueryResult> {
  const root = mkdtempSync(join(tmpdir(), 'pulseboard-bench-history-query-'));
  const list = paintBuilds();
  const servers: Started[] = [];
  const profileDir = process.env.BENCH_QUERY_PROFILE;
  const nodeFlags = profileDir ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', profileDir] : [];
  try {
    // BENCH_QUERY_STORE=<dir>: a demo store written before (by `pulseboard demo --days 30`), for profiling runs.
    const store = process.env.BENCH_QUERY_STORE ?? join(root, 'demo');
    if (!process.env.BENCH_QUERY_STORE) {
      const demo = await writeDemo({ days: 30, dir: store, intervalMs: 1000, seed: 1 });
      if (demo.error) throw new Error(demo.error);
    }
    for (const [index, { dist }] of list.entries()) {
      const served = join(root, `served-${index}`);
      cpSync(store, served, { recursive: true });
      servers.push(await startProcess(process.execPath, [...nodeFlags, join(dist, 'server/main.js'), '--port', '0', '--data-dir', served]));
    }
    // Past the start's own work (the journal's hour into columns, its collection).
    await sleep(8000);
    const results: HistoryQueryResult['builds'] = list.map(({ build }) => ({ build, windows: [] }));
    for (const [window, span] of WINDOWS) {
      const rows = results.map((result) => {
        const row = {
          window,
          cold: { cpuMs: 0, wallMs: 0 },
          cpuMs: [] as number[],
          wallMs: [] as number[],
          gzipBytes: 0,
          jsonBytes: 0,
          tier: '',
          rows: 0,
        };
        result.windows.push(row);
        return row;
      });
      for (const [index, server] of servers.entries()) {
        const { cpuMs, wallMs, body } = await timedQuery(server, span);
        const row = rows[index] as (typeof rows)[number];
        row.cold = { cpuMs, wallMs };
        const json = gunzipSync(body);
        const answer = JSON.parse(json.toString()) as { tier: string; series: { cpu?: { t: number[] } } };
        Object.assign(row, { gzipBytes: body.length, jsonBytes: json.length, tier: answer.tier, rows: answer.series.cpu?.t.length ?? 0 });
      }
      for (let trial = 0; trial < trials; trial++) {
        const order = servers.map((_, index) => index);
        if (trial % 2 === 1) order.reverse();
        for (const index of order) {
          await sleep(SPACING_MS / servers.length);
          const { cpuMs, wallMs } = await timedQuery(servers[index] as Started, span);
          rows[index]?.cpuMs.push(cpuMs);
          rows[index]?.wallMs.push(wallMs);
        }
      }
    }
    return {
      trials,
      builds: results,
      command: `node ${nodeFlags.join(' ')} <build>/server/main.js --port 0 --data-dir <copy of one 30-day demo store> (pinned to CPU 0), one per build of BENCH_PAINT_DISTS; GET /api/history?topics=${TOPICS}&from=<now - window>&to=<now>&points=${POINTS} with Accept-Encoding: gzip, first query of each window after start (cold) then ${trials} per build alternating, ${SPACING_MS} ms apart; CPU of every server thread (/proc/<pid>/task/*/schedstat) from the request to the answer's last byte`,
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

export function historyQueryRows(result: HistoryQueryResult): Row[] {
  const ms = (values: number[]) => Math.round(median(values));
  const range = (values: number[]) => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))}`;
  return result.builds.flatMap(({ build, windows }) =>
    windows.map((w) => ({
      measure: `history query (server), ${build}: ${w.window} window (${w.tier}, ${w.rows} rows per topic, ${(w.gzipBytes / 1e3).toFixed(0)} KB gzip of ${(w.jsonBytes / 1e6).toFixed(2)} MB JSON), server CPU per query cold / warm median (range), ms; to the last byte, cold / warm median`,
      ours: `${Math.round(w.cold.cpuMs)} / ${ms(w.cpuMs)} (${range(w.cpuMs)}); ${Math.round(w.cold.wallMs)} / ${ms(w.wallMs)}`,
      peer: '-',
      ratio: '-',
      command: result.command,
    })),
  );
}
