// Issue 20's budget for access-log tailing: ≤ 2 µs of CPU per line, read, parsed and counted (nginx,
// Apache, Caddy formats). In this process: lines are appended to a file and the source reads them back
// as it does at each tick, CPU time (user + system, all threads). A tick costs a fixed part (closing the
// tick's histograms into the window, saving the position) plus a part per line: both come from ticks of
// two sizes, T(n) = fixed + n × perLine.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogSource } from '../../server/requests/access-log.js';
import { RequestStats } from '../../server/requests/stats.js';
import type { Row } from './table.js';

export const ACCESS_LOG_BUDGET_US = 2;
const LINES = 200_000;
const SMALL_TICK = 2_000;
const LARGE_TICK = 20_000;

const PATHS = ['/', '/users/4211', '/users/17/orders', '/api/search?q=shoes&page=2', '/static/app.3f2a9c1e.js', '/healthz', '/a/b/c/d/e'];
const STATUSES = [200, 200, 200, 200, 304, 404, 500, 302, 499];

type Format = 'nginx' | 'apache' | 'caddy';

function line(format: Format, i: number): string {
  const path = PATHS[i % PATHS.length] as string;
  const status = STATUSES[i % STATUSES.length] as number;
  const seconds = ((i % 250) + 1) / 1000;
  const agent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
  if (format === 'caddy') {
    return JSON.stringify({
      level: 'info',
      ts: 1764130000 + i / 1000,
      logger: 'http.log.access.log0',
      msg: 'handled request',
      request: {
        remote_ip: '10.0.0.7',
        remote_port: '41234',
        proto: 'HTTP/1.1',
        method: 'GET',
        host: 'shop.example',
        uri: path,
        headers: { 'User-Agent': [agent] },
      },
      bytes_read: 0,
      user_id: '',
      duration: seconds,
      size: 612,
      status,
      resp_headers: { Server: ['Caddy'], 'Content-Type': ['text/html'] },
    });
  }
  const time = format === 'nginx' ? seconds.toFixed(3) : String(Math.round(seconds * 1e6));
  return `10.0.0.7 - - [26/Nov/2026:04:40:00 +0000] "GET ${path} HTTP/1.1" ${status} 612 "https://shop.example/" "${agent}" ${time}`;
}

export interface AccessLogCost {
  format: Format;
  /** Marginal CPU per line, µs. */
  usPerLine: number;
  /** CPU per tick besides the lines, ms. */
  msPerTick: number;
  /** CPU per line all included, at LARGE_TICK lines per tick, µs. */
  usPerLineAtLargeTicks: number;
}

/** CPU µs per tick of `batch` lines. */
function tickCost(format: Format, batch: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-bench-log-'));
  const path = join(dir, 'access.log');
  writeFileSync(path, '');
  const stats = new RequestStats({ source: 'access-log' });
  const source = new AccessLogSource({ files: [path], dataDir: dir }, stats);
  let cpuUs = 0;
  let tick = 0;
  try {
    for (let written = 0; written < LINES; written += batch) {
      let text = '';
      for (let i = written; i < written + batch; i++) text += `${line(format, i)}\n`;
      appendFileSync(path, text);
      const before = process.cpuUsage();
      source.sample(++tick * 100); // one tick: read, parse, count, sample, save the position
      const used = process.cpuUsage(before);
      cpuUs += used.user + used.system;
    }
    const counted = stats.sample(++tick * 100).window.count;
    if (counted !== LINES) throw new Error(`access-log bench: counted ${counted} of ${LINES} lines`);
  } finally {
    source.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return cpuUs / (LINES / batch);
}

function cost(format: Format): AccessLogCost {
  const small = tickCost(format, SMALL_TICK);
  const large = tickCost(format, LARGE_TICK);
  const usPerLine = (large - small) / (LARGE_TICK - SMALL_TICK);
  return { format, usPerLine, msPerTick: (small - SMALL_TICK * usPerLine) / 1000, usPerLineAtLargeTicks: large / LARGE_TICK };
}

export function benchAccessLog(): AccessLogCost[] {
  cost('nginx'); // warm-up: the first run pays for compiling the parser
  return (['nginx', 'apache', 'caddy'] as const).map(cost);
}

export function accessLogRows(costs: AccessLogCost[]): Row[] {
  return costs.map((result) => ({
    measure: `access-log tailing, ${result.format} lines: µs CPU per line (read, parse, count); budget ${ACCESS_LOG_BUDGET_US}. Per tick besides, ms; all included at ${LARGE_TICK.toLocaleString('en-US')} lines per tick, µs per line`,
    ours: `${result.usPerLine.toFixed(2)}; ${result.msPerTick.toFixed(2)} ms; ${result.usPerLineAtLargeTicks.toFixed(2)}`,
    peer: '-',
    ratio: '-',
    command: `in the bench process: ${LINES.toLocaleString('en-US')} lines appended in ticks of ${SMALL_TICK.toLocaleString('en-US')}, then of ${LARGE_TICK.toLocaleString('en-US')} lines, each read by one tick of AccessLogSource; per line = (T(${LARGE_TICK}) - T(${SMALL_TICK})) / ${LARGE_TICK - SMALL_TICK} (test/bench/access-log.ts)`,
  }));
}
