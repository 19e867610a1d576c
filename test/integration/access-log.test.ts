import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer, Agent as HttpAgent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestsSample, StatusClass } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type RunningNginx, startNginxWith } from '../helpers/nginx.js';
import { startTestServer } from '../helpers/server.js';

/** The README's log_format line, verbatim. */
const LOG_FORMAT =
  'log_format pulseboard \'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time\';';
const SLOW_MS = 200;

let dir: string;
let logPath: string;
let slowApp: Server;
let nginx: RunningNginx;
let server: RunningServer;
const samples: RequestsSample[] = [];
const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pulseboard-access-log-it-'));
  // nginx's workers (user nobody) reopen the log themselves after a rotation: they must reach the directory.
  chmodSync(dir, 0o755);
  logPath = join(dir, 'access.log');
  slowApp = createServer((_req, res) => setTimeout(() => res.end('slow\n'), SLOW_MS));
  await new Promise<void>((resolve) => slowApp.listen(0, '127.0.0.1', resolve));
  nginx = await startNginxWith({
    http: `${LOG_FORMAT}\n    access_log ${logPath} pulseboard;`,
    locations: `
    location = /healthz { access_log off; return 200 "up\\n"; }
    location = /ok { return 200 "ok\\n"; }
    location = /redirect { return 302 /ok; }
    location = /missing { return 404; }
    location = /broken { return 500; }
    location /users/ { return 200 "user\\n"; }
    location = /slow { proxy_pass http://127.0.0.1:${(slowApp.address() as AddressInfo).port}; }`,
  });
  server = await startTestServer({ intervalMs: 100, accessLogs: [logPath], dataDir: join(dir, 'data') });
  server.monitor.onEvent((event, data) => {
    if (event === 'requests') samples.push(data as RequestsSample);
  });
});
afterAll(async () => {
  await server?.close();
  await nginx?.stop();
  slowApp?.close();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${nginx.url}${path.slice(1)}`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const counted = () => samples.reduce((sum, sample) => sum + sample.count, 0);
const statusTotals = () => {
  const totals: Record<StatusClass, number> = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, aborted: 0 };
  for (const sample of samples) for (const [status, n] of Object.entries(sample.status)) totals[status as StatusClass] += n;
  return totals;
};

/** Waits for the count to reach `total`, then a few more ticks, in which it must not grow. */
async function settledCount(total: number): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (counted() < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const ticks = samples.length;
  while (samples.length < ticks + 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return counted();
}

describe('an empty data directory', () => {
  it('is still taken for durable history when --access-log is given (nothing is written there before it is)', async () => {
    const empty = join(dir, 'empty-data');
    mkdirSync(empty);
    const other = await startTestServer({ intervalMs: 100, accessLogs: [join(dir, 'other.log')], dataDir: empty });
    try {
      const health = (await (await fetch(`${other.url}healthz`)).json()) as { history: { writing: boolean; error: string | null } };
      expect(health.history).toMatchObject({ writing: true, error: null });
    } finally {
      await other.close();
    }
  });

  it('a directory durable history refuses (not ours) gets no positions file either', async () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'not pulseboard');
    const log = join(dir, 'foreign.log');
    writeFileSync(log, '');
    const other = await startTestServer({ intervalMs: 100, accessLogs: [log], dataDir: foreign });
    let counted = 0;
    other.monitor.onEvent((event, data) => {
      if (event === 'requests') counted += (data as RequestsSample).count;
    });
    try {
      appendFileSync(log, '127.0.0.1 - - [26/Nov/2026:04:40:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-" 0.001\n');
      const deadline = Date.now() + 10_000;
      while (counted === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(counted).toBe(1); // read, and its position would have been saved by now
      expect(readdirSync(foreign)).toEqual(['notes.txt']);
    } finally {
      await other.close();
    }
  });
});

describe('an nginx writing its own access log (the README format)', () => {
  it('gives the exact count per status class, and a p99 that sees the slow route', async () => {
    samples.length = 0;
    const mix: [string, number][] = [
      ['/ok', 60],
      ['/redirect', 10],
      ['/missing', 15],
      ['/broken', 5],
      ['/users/', 7],
      ['/slow', 3],
    ];
    const paths = mix.flatMap(([path, n]) => Array.from({ length: n }, (_, i) => (path === '/users/' ? `/users/${i + 1}` : path)));
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let i = lane; i < paths.length; i += 4) await get(paths[i] as string);
      }),
    );
    expect(await settledCount(100)).toBe(100);
    expect(statusTotals()).toEqual({ '1xx': 0, '2xx': 70, '3xx': 10, '4xx': 15, '5xx': 5, aborted: 0 });
    const last = samples.at(-1) as RequestsSample;
    expect(last.source).toBe('access-log');
    expect(last.logs).toEqual([logPath]);
    expect(last.window.count).toBe(100);
    expect(last.window.latency.p99).toBeGreaterThanOrEqual(SLOW_MS * 0.99);
    expect(last.routes.find((route) => route.route === 'GET /slow')?.latency.p50).toBeGreaterThanOrEqual(SLOW_MS * 0.99);
    expect(last.routes.find((route) => route.route === 'GET /users/:id')?.count).toBe(7);
    expect(samples.reduce((sum, sample) => sum + (sample.unparsed ?? 0), 0)).toBe(0);
  });

  it('rotation by rename mid-traffic (then nginx reopens its log): loses no line and counts none twice', async () => {
    samples.length = 0;
    const total = 600;
    for (let i = 0; i < total; i++) {
      if (i === 200) renameSync(logPath, `${logPath}.1`); // nginx goes on writing to the renamed file
      if (i === 400) nginx.reopenLogs(); // a new access.log; the workers switch a moment later
      await get('/ok');
    }
    expect(await settledCount(total)).toBe(total);
    expect(statusTotals()['2xx']).toBe(total);
    expect(statSync(logPath).size).toBeGreaterThan(0); // nginx did switch to the new file
  });

  it('rotation by copy and truncate between two requests: loses no line and counts none twice', async () => {
    samples.length = 0;
    const total = 600;
    for (let i = 0; i < total; i++) {
      if (i === 300) {
        // copytruncate loses what is written between its copy and its truncation (and what was not read yet):
        // rotate once the tailer has read the first half, as logrotate would between two requests.
        expect(await settledCount(300)).toBe(300);
        copyFileSync(logPath, `${logPath}.2`);
        truncateSync(logPath, 0);
      }
      await get('/ok');
    }
    expect(await settledCount(total)).toBe(total);
  });
});
