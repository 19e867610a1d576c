// Issue 14 (hardening, round two), the HTTP cases: before/after figures against the built server
// (`npm run build` first). Not part of `npm test`; about 2 minutes, most of it waiting for history to fill
// and for connections to be closed. Knobs: HARDEN_ONLY=since,tls,head,small,history  HARDEN_WAIT_S=90
// (how long to watch a connection that should be closed).
//
//   npm run bench:hardening

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { selfSignedCertificate } from '../helpers/tls.js';

// HARDEN_MAIN=<path>/dist/server/main.js measures another build (the code before the fixes).
const MAIN = process.env.HARDEN_MAIN ?? join(import.meta.dirname, '..', '..', 'dist', 'server', 'main.js');
const ONLY = new Set((process.env.HARDEN_ONLY ?? 'since,tls,head,small,history').split(','));
const WAIT_S = Number(process.env.HARDEN_WAIT_S ?? 90);
const TOKEN = 'hardening-bench-token-0123';

interface Spawned {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  stop(): Promise<void>;
}

function startServer(args: string[]): Promise<Spawned> {
  const child = spawn(process.execPath, [MAIN, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening in 15 s:\n${output}`)), 15_000);
    void exited.then(() => reject(new Error(`exited:\n${output}`)));
    const check = () => {
      const match = /listening on (https?:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      const url = match[1] as string;
      resolve({
        child,
        url,
        port: Number(new URL(url).port),
        output: () => output,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout?.on('data', check);
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
  ms: number;
}

/** One request on its own connection; resolves once the whole body is read. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { Connection: 'close', ...headers }, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const round = (n: number) => Math.round(n * 10) / 10;

/** `load` in flight while /healthz is asked every 20 ms: the slowest /healthz answer, and how long the load took. */
async function healthzDuring(
  base: string,
  load: () => Promise<unknown>[],
): Promise<{ healthzMaxMs: number; healthzMedianMs: number; loadMs: number }> {
  const started = performance.now();
  let done = false;
  const all = Promise.all(load()).then(() => (done = true));
  const probes: number[] = [];
  while (!done) {
    probes.push((await get(`${base}healthz`)).ms);
    await sleep(20);
  }
  await all;
  return { healthzMaxMs: round(Math.max(...probes)), healthzMedianMs: round(median(probes)), loadMs: round(performance.now() - started) };
}

async function caseSince(): Promise<void> {
  const server = await startServer([]);
  try {
    const evil = `${server.url}api/history?since=1${'+'.repeat(16_000)}x`;
    const single: number[] = [];
    let status = 0;
    for (let i = 0; i < 5; i++) {
      const answer = await get(evil);
      single.push(answer.ms);
      status = answer.status;
    }
    const baseline = median(await Promise.all([0, 1, 2, 3, 4].map(() => get(`${server.url}healthz`).then((a) => a.ms))));
    const parallel = await healthzDuring(server.url, () => Array.from({ length: 40 }, () => get(evil)));
    console.log(
      `since: one request since=1+16000'+'+x: status ${status}, median ${round(median(single))} ms (of 5); ` +
        `/healthz alone ${round(baseline)} ms; with 40 in parallel: /healthz max ${parallel.healthzMaxMs} ms, ` +
        `median ${parallel.healthzMedianMs} ms, the 40 took ${parallel.loadMs} ms`,
    );
  } finally {
    await server.stop();
  }
}

/** Resolves with the seconds until `socket`-like `closed` fires, or null when it is still open after WAIT_S. */
function secondsUntil(closed: Promise<unknown>): Promise<number | null> {
  const started = performance.now();
  return Promise.race([closed.then(() => round((performance.now() - started) / 1000)), sleep(WAIT_S * 1000).then(() => null)]);
}

async function caseTls(): Promise<void> {
  const tls = selfSignedCertificate();
  const server = await startServer(['--tls-cert', tls.certPath, '--tls-key', tls.keyPath]);
  const plain = await startServer([]);
  const show = (s: number | null) => (s === null ? `still open after ${WAIT_S} s` : `closed after ${s} s`);
  try {
    const session = connectHttp2(server.url, { ca: tls.cert });
    session.on('error', () => {});
    const idleHttp2 = secondsUntil(new Promise((resolve) => session.once('close', resolve)));

    const noBody = 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n';
    const tlsSocket = connectTls({
      host: '127.0.0.1',
      port: server.port,
      ca: tls.cert,
      ALPNProtocols: ['http/1.1'],
      servername: 'localhost',
    });
    tlsSocket.on('error', () => {});
    // Each client reads what it is sent: a socket whose data is never read never emits 'close'.
    tlsSocket.resume();
    tlsSocket.once('secureConnect', () => tlsSocket.write(noBody));
    const tlsNoBody = secondsUntil(new Promise((resolve) => tlsSocket.once('close', resolve)));

    const tlsIdle = connectTls({
      host: '127.0.0.1',
      port: server.port,
      ca: tls.cert,
      ALPNProtocols: ['http/1.1'],
      servername: 'localhost',
    });
    tlsIdle.on('error', () => {});
    tlsIdle.resume();
    tlsIdle.once('secureConnect', () => tlsIdle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    const tlsKeepAlive = secondsUntil(new Promise((resolve) => tlsIdle.once('close', resolve)));

    const plainSocket = connectTcp(plain.port, '127.0.0.1');
    plainSocket.on('error', () => {});
    plainSocket.resume();
    plainSocket.write(noBody);
    const plainNoBody = secondsUntil(new Promise((resolve) => plainSocket.once('close', resolve)));

    const [a, b, c, d] = await Promise.all([idleHttp2, tlsNoBody, tlsKeepAlive, plainNoBody]);
    console.log(`tls: idle HTTP/2 session: ${show(a)}`);
    console.log(`tls: HTTP/1.1 over TLS, Content-Length: 100 and no body: ${show(b)}`);
    console.log(`tls: HTTP/1.1 over TLS, idle keep-alive after one request: ${show(c)}`);
    console.log(`tls: plain HTTP/1.1, Content-Length: 100 and no body: ${show(d)}`);
    session.destroy();
    tlsSocket.destroy();
    tlsIdle.destroy();
    plainSocket.destroy();
  } finally {
    await server.stop();
    await plain.stop();
  }
}

/** An upstream for the proxy: answers every request with a small JSON body. */
async function upstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((_, response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

async function caseHead(): Promise<void> {
  const app = await upstream();
  const server = await startServer(['--proxy', app.url, '--proxy-port', '0']);
  for (let i = 0; i < 100 && !/proxying/.test(server.output()); i++) await sleep(20);
  const proxyUrl = /proxying (http:\/\/\S+)/.exec(server.output())?.[1];
  try {
    const paths = ['', 'index.html', 'api/events', 'api/snapshot', 'api/history', 'healthz', 'metrics', 'nope'];
    for (const path of paths) {
      const before = server.output().length;
      const statuses = new Set<number>();
      for (let i = 0; i < 20; i++)
        statuses.add((await get(`${server.url}${path}`, { Accept: path === 'api/events' ? 'text/event-stream' : '*/*' }, 'HEAD')).status);
      await sleep(100);
      const logged = server.output().slice(before);
      const lines = logged.split('\n').filter((line) => line !== '').length;
      console.log(
        `head: HEAD /${path} x20: status ${[...statuses].join(',')}; ${lines / 20} log lines, ${round(logged.length / 20)} bytes per request`,
      );
    }
    if (proxyUrl) {
      const before = server.output().length;
      const statuses = new Set<number>();
      for (let i = 0; i < 20; i++) statuses.add((await get(`${proxyUrl}users/1`, {}, 'HEAD')).status);
      await sleep(100);
      const logged = server.output().slice(before);
      console.log(
        `head: HEAD on the proxy port x20: status ${[...statuses].join(',')}; ${logged.split('\n').filter((l) => l !== '').length / 20} log lines, ${round(logged.length / 20)} bytes per request`,
      );
    }
  } finally {
    await server.stop();
    app.server.close();
  }
}

async function caseSmall(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-harden-'));
  // Open redirect and static caching, with a token.
  const server = await startServer(['--token', TOKEN, '--cors-origin', 'https://ops.example.com']);
  try {
    const redirect = await get(`${server.url}.//evil.example/?token=${TOKEN}`);
    console.log(`small: GET /.//evil.example/?token=T: ${redirect.status} Location ${redirect.headers.location}`);
    const page = await get(server.url, { Authorization: `Bearer ${TOKEN}` });
    void page;
    const html = await new Promise<string>((resolve) => {
      request(server.url, { headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      }).end();
    });
    const asset = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(html)?.[1];
    if (asset) {
      const answer = await get(`${server.url}${asset}`, { Authorization: `Bearer ${TOKEN}` });
      console.log(`small: ${asset} with --token: ${answer.status} Cache-Control ${answer.headers['cache-control']}`);
    }
    const cors = await get(`${server.url}api/history`, {
      Authorization: `Bearer ${TOKEN}`,
      Origin: 'https://ops.example.com',
      'Accept-Encoding': 'gzip',
    });
    console.log(
      `small: CORS on a compressed /api/history: Content-Encoding ${cors.headers['content-encoding']}, Vary ${cors.headers.vary}`,
    );
    const behindProxy = await get(`${server.url}?token=${TOKEN}`, { 'X-Forwarded-Proto': 'https' });
    console.log(`small: ?token= with X-Forwarded-Proto: https, no --trust-proxy: Set-Cookie ${behindProxy.headers['set-cookie']}`);
  } finally {
    await server.stop();
  }
  const trusting = await startServer(['--token', TOKEN, '--trust-proxy', '--max-streams-per-client', '2']).catch((error: Error) => error);
  if (trusting instanceof Error) {
    console.log(`small: --trust-proxy: ${trusting.message.trim().split('\n').at(-1)}`);
  } else {
    try {
      const cookie = await get(`${trusting.url}?token=${TOKEN}`, { 'X-Forwarded-Proto': 'https' });
      console.log(`small: ?token= with X-Forwarded-Proto: https and --trust-proxy: Set-Cookie ${cookie.headers['set-cookie']}`);
      const statuses: number[] = [];
      const open: (() => void)[] = [];
      for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
        statuses.push(
          await new Promise<number>((resolve) => {
            const req = request(`${trusting.url}api/events?topics=cpu`, {
              headers: { Accept: 'text/event-stream', Authorization: `Bearer ${TOKEN}`, 'X-Forwarded-For': client },
            });
            req.on('response', (res) => {
              open.push(() => req.destroy());
              resolve(res.statusCode ?? 0);
            });
            req.on('error', () => resolve(0));
            req.end();
          }),
        );
      }
      console.log(`small: 3 streams from one proxy address, 3 forwarded clients, --max-streams-per-client 2: ${statuses.join(', ')}`);
      for (const close of open) close();
    } finally {
      await trusting.stop();
    }
  }

  // The webhook: a 307 to another receiver, and a user:pass@ URL.
  const hits: { at: string; auth?: string }[] = [];
  const receiver = createServer((req, res) => {
    hits.push({ at: req.url ?? '', auth: req.headers.authorization });
    if (req.url === '/hook') res.writeHead(307, { Location: '/elsewhere' }).end();
    else res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as { port: number }).port;
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify({ rules: [{ name: 'always', metric: 'cpu', above: -1 }] }));
  try {
    const hooked = await startServer(['--alert-rules', rules, '--alert-webhook', `http://127.0.0.1:${port}/hook`, '--interval', '100ms']);
    await sleep(2000);
    await hooked.stop();
    const log = hooked
      .output()
      .split('\n')
      .filter((line) => /webhook/.test(line));
    console.log(`small: webhook answering 307: requests ${hits.map((h) => h.at).join(', ')}; log: ${log.join(' | ') || '(none)'}`);
    hits.length = 0;
    const withUser = await startServer([
      '--alert-rules',
      rules,
      '--alert-webhook',
      `http://user:p%40ss@127.0.0.1:${port}/ok`,
      '--interval',
      '100ms',
    ]).catch((error: Error) => error);
    if (withUser instanceof Error) console.log(`small: webhook with user:pass@: start-up: ${withUser.message.trim().split('\n').at(-1)}`);
    else {
      await sleep(2000);
      await withUser.stop();
      const log = withUser
        .output()
        .split('\n')
        .filter((line) => /webhook/.test(line));
      console.log(
        `small: webhook with user:pass@: requests ${hits.map((h) => `${h.at} (${h.auth ?? 'no auth'})`).join(', ') || 'none'}; log: ${log.join(' | ') || '(none)'}`,
      );
    }
  } finally {
    receiver.close();
  }
}

async function caseHistory(): Promise<void> {
  // 3 600 rows of every topic, as an hour at 1 Hz: 72 s of sampling every 20 ms.
  const server = await startServer(['--interval', '20ms', '--history', '72s', '--backfill', '5s']);
  try {
    await sleep(75_000);
    const one = await get(`${server.url}api/history`, { 'Accept-Encoding': 'gzip' });
    const baseline = median(await Promise.all([0, 1, 2, 3, 4].map(() => get(`${server.url}healthz`).then((a) => a.ms))));
    const parallel = await healthzDuring(server.url, () =>
      Array.from({ length: 200 }, () => get(`${server.url}api/history`, { 'Accept-Encoding': 'gzip' }).catch(() => ({ status: 0 }))),
    );
    const statuses = new Map<number, number>();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        get(`${server.url}api/history`, { 'Accept-Encoding': 'gzip' }).catch(() => ({ status: 0 }) as Answer),
      ),
    );
    for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    console.log(
      `history: one full /api/history: ${one.status}, ${round(one.bytes / 1024)} KiB gzip, ${round(one.ms)} ms; /healthz alone ${round(baseline)} ms; ` +
        `200 in parallel: /healthz max ${parallel.healthzMaxMs} ms, median ${parallel.healthzMedianMs} ms, the 200 took ${parallel.loadMs} ms; ` +
        `statuses of another 200: ${[...statuses].map(([s, n]) => `${n}x${s}`).join(' ')}`,
    );
  } finally {
    await server.stop();
  }
}

const cases: [string, () => Promise<void>][] = [
  ['since', caseSince],
  ['head', caseHead],
  ['small', caseSmall],
  ['history', caseHistory],
  ['tls', caseTls],
];
for (const [name, run] of cases) if (ONLY.has(name)) await run();
