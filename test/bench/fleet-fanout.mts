// `npm run bench:fleet`: fan-out of a fleet hub, one hub vs two sharing the clients, on this machine.
// Redis (Debian's redis-server), one agent at 250 ms, hubs with the clients split between them; each client
// is a real HTTP connection reading the SSE stream. Latency: from the agent's sample time (`t`) to receipt.
// Prints one table.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLIENTS = Number(process.env.BENCH_FLEET_CLIENTS ?? 2000);
const SECONDS = Number(process.env.BENCH_FLEET_SECONDS ?? 20);
const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'server', 'main.js');
const REDIS_PORT = 6399;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start(command: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} not ready:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Opens `count` SSE clients on `url`; every cpu event's delay is pushed to `delays` once `measuring` is on. */
async function clients(url: string, count: number, delays: number[], state: { measuring: boolean; held: number }) {
  const opened: (() => void)[] = [];
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${url}api/events?host=bench-1&topics=cpu`, { headers: { Accept: 'text/event-stream' }, agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        state.held++;
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (state.measuring && frame.includes('event: cpu')) {
              const t = Number(/"t":(\d+)/.exec(frame)?.[1]);
              delays.push(Date.now() - t);
            }
            end = buffer.indexOf('\n\n');
          }
        });
        res.on('close', () => state.held--);
        resolve();
      });
      req.on('error', reject);
      req.end();
      opened.push(() => req.destroy());
    });
  }
  return () => {
    for (const close of opened) close();
  };
}

async function trial(hubs: number, redisUrl: string) {
  const started = await Promise.all(
    Array.from({ length: hubs }, () =>
      start(
        process.execPath,
        [MAIN, '--redis', redisUrl, '--port', '0', '--max-streams-per-client', '100000', '--max-streams', '100000'],
        /listening on (\S+)/,
      ),
    ),
  );
  const delays: number[] = [];
  const state = { measuring: false, held: 0 };
  const closers = [];
  for (const hub of started) closers.push(await clients(hub.match[1] as string, Math.floor(CLIENTS / hubs), delays, state));
  await sleep(3000);
  const pids = started.map((hub) => hub.child.pid as number);
  const cpuBefore = pids.map(cpuSeconds);
  state.measuring = true;
  await sleep(SECONDS * 1000);
  state.measuring = false;
  const cpu = pids.map((pid, i) => cpuSeconds(pid) - (cpuBefore[i] as number));
  const rss = pids.map(rssBytes);
  const held = state.held;
  for (const close of closers) close();
  for (const hub of started) hub.child.kill('SIGTERM');
  await sleep(1000);
  delays.sort((a, b) => a - b);
  return {
    hubs,
    held,
    events: delays.length,
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    max: delays.at(-1) ?? Number.NaN,
    cpuPerHub: cpu.map((seconds) => seconds / SECONDS),
    rssPerHubMiB: rss.map((bytes) => bytes / 2 ** 20),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pulseboard-bench-redis-'));
const redis = spawn(
  '/usr/bin/redis-server',
  ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
await sleep(500);
const redisUrl = `redis://127.0.0.1:${REDIS_PORT}`;
const agent = await start(
  process.execPath,
  [MAIN, 'agent', '--redis', redisUrl, '--name', 'bench-1', '--interval', '250ms'],
  /sampling every/,
);
await sleep(3000);
try {
  const one = await trial(1, redisUrl);
  const two = await trial(2, redisUrl);
  const rows = [one, two].map((r) => [
    `${r.hubs} hub${r.hubs > 1 ? 's' : ''}`,
    String(r.held),
    String(r.events),
    `${r.p50} / ${r.p99} / ${r.max} ms`,
    r.cpuPerHub.map((c) => `${(c * 100).toFixed(1)} %`).join(' + '),
    r.rssPerHubMiB.map((m) => `${m.toFixed(0)} MiB`).join(' + '),
  ]);
  const header = ['hubs', 'clients held', 'events measured', 'delay p50 / p99 / max', 'CPU (of a core)', 'RSS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(`fleet fan-out: ${CLIENTS} SSE clients, cpu topic every 250 ms, ${SECONDS} s measured, ${new Date().toISOString()}`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log(`  command: BENCH_FLEET_CLIENTS=${CLIENTS} BENCH_FLEET_SECONDS=${SECONDS} npm run bench:fleet`);
} finally {
  agent.child.kill('SIGTERM');
  redis.kill('SIGTERM');
}
