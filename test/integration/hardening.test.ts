import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import type { HelloPayload } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { RETRY_AFTER_SECONDS } from '../../server/stream/limits.js';
import { spawnServer, startTestServer } from '../helpers/server.js';
import { openSse, type SseConnection, seqOf } from '../helpers/sse-reader.js';
import { steerableCpu } from '../helpers/steerable.js';

const servers: RunningServer[] = [];
const streams: SseConnection[] = [];
const start = async (...args: Parameters<typeof startTestServer>) => {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
};
const open = async (...args: Parameters<typeof openSse>) => {
  const stream = await openSse(...args);
  streams.push(stream);
  return stream;
};
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends raw bytes and resolves with the whole answer (the server closes, or 2 s of silence). */
function rawRequest(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, 2000);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? done() : reject(error)));
    socket.write(bytes);
  });
}

describe('CORS', () => {
  const site = 'https://ops.example.com';

  it('is off without --cors-origin: no Access-Control header, and a preflight finds no route', async () => {
    const server = await start();
    const plain = await fetch(`${server.url}api/snapshot`, { headers: { Origin: site } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${server.url}api/snapshot`, {
      method: 'OPTIONS',
      headers: { Origin: site, 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(404);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the listed origins, on the JSON routes and the stream, before the token check', async () => {
    const token = 'cors-test-token-0123456789';
    const server = await start({ corsOrigins: [site], token });
    const auth = { Authorization: `Bearer ${token}` };

    const preflight = await fetch(`${server.url}api/events`, {
      method: 'OPTIONS',
      headers: { Origin: site, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(site);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);

    const snapshot = await fetch(`${server.url}api/snapshot`, { headers: { Origin: site, ...auth } });
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get('access-control-allow-origin')).toBe(site);
    expect(snapshot.headers.get('vary')).toMatch(/Origin/);

    const stream = await open(`${server.url}api/events?topics=cpu`, { Origin: site, ...auth });
    expect(stream.status).toBe(200);
    expect(stream.headers['access-control-allow-origin']).toBe(site);

    const evil = 'https://evil.example.net';
    const refused = await fetch(`${server.url}api/snapshot`, {
      method: 'OPTIONS',
      headers: { Origin: evil, 'Access-Control-Request-Method': 'GET' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const other = await fetch(`${server.url}api/snapshot`, { headers: { Origin: evil, ...auth } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const evilStream = await open(`${server.url}api/events?topics=cpu`, { Origin: evil, ...auth });
    expect(evilStream.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS and caches', () => {
  it('adds Origin to Vary beside Accept-Encoding on compressed answers, for allowed and other origins alike', async () => {
    const site = 'https://ops.example.com';
    const server = await start({ corsOrigins: [site] });
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few samples: answers above the compression threshold
    for (const route of ['api/snapshot', 'api/history']) {
      for (const origin of [site, 'https://other.example.net']) {
        const response = await fetch(`${server.url}${route}`, { headers: { Origin: origin, 'Accept-Encoding': 'gzip' } });
        await response.arrayBuffer();
        expect(response.headers.get('content-encoding')).toBe('gzip');
        const vary = (response.headers.get('vary') ?? '').split(',').map((item) => item.trim().toLowerCase());
        expect(vary).toEqual(expect.arrayContaining(['accept-encoding', 'origin']));
      }
    }
  });
});

describe('stream limits', () => {
  it('answers 429 past the per-address cap and 503 past the global cap, with Retry-After, and frees slots on close', async () => {
    const server = await start({ maxStreams: 3, maxStreamsPerClient: 2 });
    const url = `${server.url}api/events?topics=cpu`;
    const first = await open(url, {}, { localAddress: '127.0.0.1' });
    await open(url, {}, { localAddress: '127.0.0.1' });
    const tooManyFromOne = await open(url, {}, { localAddress: '127.0.0.1' });
    expect(tooManyFromOne.status).toBe(429);
    expect(tooManyFromOne.headers['retry-after']).toBe(String(RETRY_AFTER_SECONDS));
    await tooManyFromOne.closed;

    // Another address still gets in: one wall cannot take every slot.
    const fromOther = await open(url, {}, { localAddress: '127.0.0.2' });
    expect(fromOther.status).toBe(200);
    const full = await open(url, {}, { localAddress: '127.0.0.3' });
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe(String(RETRY_AFTER_SECONDS));
    const body = await fetch(`${server.url}healthz`).then((r) => r.json());
    expect(body.streams).toBe(3);

    first.close();
    await first.closed;
    await waitFor(() => server.monitor.streams.count === 2); // the server has seen it go
    const afterClose = await open(url, {}, { localAddress: '127.0.0.3' });
    expect(afterClose.status).toBe(200);
    await afterClose.until((frames) => frames.some((f) => f.event === 'cpu'));
  });
});

describe('--trust-proxy', () => {
  const TOKEN = 'trust-proxy-test-token-0123';

  it('counts each forwarded client against the per-client cap, not the proxy address; without it, X-Forwarded-For is ignored', async () => {
    const trusting = await start({ maxStreamsPerClient: 1, trustProxy: true });
    const url = `${trusting.url}api/events?topics=cpu`;
    expect((await open(url, { 'X-Forwarded-For': '203.0.113.1' })).status).toBe(200);
    expect((await open(url, { 'X-Forwarded-For': '203.0.113.2' })).status).toBe(200);
    expect((await open(url, { 'X-Forwarded-For': '198.51.100.9, 203.0.113.1' })).status).toBe(429);

    const plain = await start({ maxStreamsPerClient: 1 });
    const plainUrl = `${plain.url}api/events?topics=cpu`;
    expect((await open(plainUrl, { 'X-Forwarded-For': '203.0.113.1' })).status).toBe(200);
    expect((await open(plainUrl, { 'X-Forwarded-For': '203.0.113.2' })).status).toBe(429);
  });

  it('marks the token cookie Secure when the proxy says the browser came over HTTPS', async () => {
    const trusting = await start({ token: TOKEN, trustProxy: true });
    const secure = await fetch(`${trusting.url}?token=${TOKEN}`, { headers: { 'X-Forwarded-Proto': 'https' }, redirect: 'manual' });
    expect(secure.headers.get('set-cookie')).toMatch(/; Secure/);
    const overHttp = await fetch(`${trusting.url}?token=${TOKEN}`, { headers: { 'X-Forwarded-Proto': 'http' }, redirect: 'manual' });
    expect(overHttp.headers.get('set-cookie')).not.toMatch(/Secure/);

    const plain = await start({ token: TOKEN });
    const ignored = await fetch(`${plain.url}?token=${TOKEN}`, { headers: { 'X-Forwarded-Proto': 'https' }, redirect: 'manual' });
    expect(ignored.headers.get('set-cookie')).toMatch(/^pulseboard_token=/);
    expect(ignored.headers.get('set-cookie')).not.toMatch(/Secure/);
  });
});

describe('/api/history under load', () => {
  /** A server holding `rows` CPU samples: the real hub, filled through its own publish(). */
  async function withHistory(rows: number) {
    const cpu = steerableCpu(1000);
    const server = await start({ intervalMs: 1000, historyMs: 6 * 3_600_000 }, { collectors: [cpu.collector] });
    const now = Date.now();
    for (let i = rows; i > 0; i--) {
      const t = now - i * 1000;
      server.monitor.hub.publish('cpu', {
        t,
        total: i % 100,
        user: i % 50,
        system: 1,
        iowait: 0,
        cores: [i % 100, 3],
        load: [0.1, 0.2, 0.3],
      });
    }
    return server;
  }

  it('answers 200 parallel full requests, gzip and not, with the whole history', async () => {
    const server = await withHistory(10_000);
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const response = await fetch(`${server.url}api/history?topics=cpu`, {
          headers: { 'Accept-Encoding': i % 2 ? 'gzip' : 'identity' },
        });
        return { status: response.status, encoding: response.headers.get('content-encoding'), body: await response.json() };
      }),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.encoding).toBe(i % 2 ? 'gzip' : null);
      expect(answer.body.bootId).toBe(server.monitor.hub.bootId);
      expect(answer.body.series.cpu.t.length).toBeGreaterThanOrEqual(10_000);
    }
  });

  it('past 32 builds waiting, answers 503 with Retry-After; /healthz is served before the builds', async () => {
    const server = await withHistory(20_000);
    const base = Date.now() - 3 * 3_600_000;
    let connectionCount = 0;
    server.server.on('connection', () => connectionCount++);
    // The order in which the server finished its responses (client-side order says little: same process).
    const finished: string[] = [];
    server.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      response.on('finish', () => finished.push(request.url === '/healthz' ? 'healthz' : `history ${response.statusCode}`));
    });
    // Connected first, then every request written in one go: they reach the server in the same turn.
    const sockets = await Promise.all(
      Array.from(
        { length: 101 },
        () =>
          new Promise<Socket>((resolve) =>
            connect(server.port, '127.0.0.1').once('connect', function (this: Socket) {
              resolve(this);
            }),
          ),
      ),
    );
    // The client's 'connect' comes before the server has accepted: wait until it holds every connection.
    await waitFor(() => connectionCount >= sockets.length);
    const exchanges = sockets.map((socket, i) => {
      // A different since each: nothing to share, every history request is a build of its own.
      const path = i < 100 ? `/api/history?topics=cpu&since=${base + i}` : '/healthz';
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      const done = new Promise<string>((resolve) => socket.once('close', () => resolve(answer)));
      return { path, done };
    });
    for (const [i, socket] of sockets.entries()) socket.write(`GET ${exchanges[i]?.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const answers = (await Promise.all(exchanges.map((exchange) => exchange.done))).map((raw) => ({
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]),
      retryAfter: /\r\nretry-after: (\S+)/i.exec(raw)?.[1],
      body: raw.slice(raw.indexOf('\r\n\r\n') + 4),
    }));
    const histories = answers.slice(0, 100);
    expect(answers[100]?.status).toBe(200);
    const refused = histories.filter((answer) => answer.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer.retryAfter).toBe('2');
      expect(JSON.parse(answer.body).error).toMatch(/too many history requests at once/);
    }
    expect(histories.every((answer) => answer.status === 200 || answer.status === 503)).toBe(true);
    const built = histories.filter((answer) => answer.status === 200);
    expect(built.length).toBeGreaterThan(0);
    // since is 3 h back: about 10 800 of the 20 000 rows, one a second.
    for (const answer of built) expect(JSON.parse(answer.body).series.cpu.t.length).toBeGreaterThan(10_000);
    // /healthz did not wait for the builds (before: it came after all 100): most answers were sent after it.
    const builtAfterHealthz = finished.slice(finished.indexOf('healthz')).filter((name) => name === 'history 200').length;
    console.log(
      `history under load: ${refused.length} of 100 refused; ${builtAfterHealthz} of ${built.length} built answers sent after /healthz`,
    );
    expect(builtAfterHealthz).toBeGreaterThanOrEqual(built.length / 2);
    const after = await fetch(`${server.url}api/history?topics=cpu`);
    await after.arrayBuffer();
    expect(after.status).toBe(200);
  });
});

describe('request size bounds', () => {
  it('answers 431 to headers over 16 KiB, 413 to a large or chunked body, and keeps serving', async () => {
    const server = await start();
    const bigHeader = `GET /api/snapshot HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`;
    expect(await rawRequest(server.port, bigHeader)).toMatch(/^HTTP\/1\.1 431 /);

    // A declared length past the bound is refused from the headers alone: the body is never read, so only
    // its first KiB is sent here, and the 413 comes back whole (a client that sent it all may see a reset).
    const large = await rawRequest(
      server.port,
      `POST /api/snapshot HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024}\r\n\r\n${'x'.repeat(1024)}`,
    );
    expect(large).toMatch(/^HTTP\/1\.1 413 /);
    expect(large).toContain('{"error":"request bodies are limited to 16384 bytes"}');
    const chunked = await rawRequest(
      server.port,
      'POST /api/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n',
    );
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(chunked).not.toMatch(/at \w+ \(/); // no stack trace

    const after = await fetch(`${server.url}api/snapshot`);
    expect(after.status).toBe(200);
  });
});

describe('HEAD requests', () => {
  it('get the headers of each route and no body, quietly: no log line (it was a stack trace each), no stream held', async () => {
    const server = await spawnServer(['--port', '0']);
    try {
      const loggedBefore = server.output().length;
      for (const path of ['', 'index.html', 'api/snapshot', 'api/history?topics=cpu', 'healthz', 'metrics', 'api/nope']) {
        const get = await fetch(`${server.url}${path}`);
        await get.arrayBuffer();
        for (let i = 0; i < 5; i++) {
          const head = await fetch(`${server.url}${path}`, { method: 'HEAD' });
          expect(head.status).toBe(get.status);
          expect(await head.text()).toBe('');
        }
      }
      for (let i = 0; i < 20; i++) {
        const head = await fetch(`${server.url}api/events?topics=cpu`, { method: 'HEAD', headers: { Accept: 'text/event-stream' } });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
        expect(await head.text()).toBe('');
      }
      const health = (await (await fetch(`${server.url}healthz`)).json()) as { streams: number };
      expect(health.streams).toBe(0);
      await sleep(300);
      expect(server.output().slice(loggedBefore)).toBe('');
    } finally {
      await server.stop();
    }
  });
});

describe('static serving', () => {
  it.each([
    '/../../etc/passwd',
    '/assets/../../package.json',
    '/assets/..%2f..%2fpackage.json',
    '/%2e%2e/%2e%2e/etc/passwd',
    '//etc/passwd',
    '/assets/%00index.html',
    '/server/main.ts',
    '/.git/config',
  ])('cannot be led out of the page folder by %s', async (path) => {
    const server = await start();
    const answer = await rawRequest(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 (400|404) /);
    expect(answer).not.toMatch(/root:|"name": "pulseboard"|\[core\]|import /);
  });
});

describe('faults', () => {
  // A minute offline at 1 Hz, on a clock ten times faster: 60 samples of every topic logged while the client is
  // away, in a history five times that long, as at 1 Hz with 5 minutes of history. What the server does on the
  // reconnect depends on what its log holds, not on how long the client was gone (its closed stream is gone).
  it('a client that reconnects after a minute of samples offline (60 per topic) receives every event still in history, in order, once', async () => {
    const server = await start({ intervalMs: 100, historyMs: 30_000, heartbeatMs: 15_000 });
    const before = await open(`${server.url}api/events`);
    await before.until((frames) => frames.filter((f) => f.event === 'cpu').length >= 2);
    const lastId = before.events().at(-1)?.id as string;
    before.close();

    // Offline for a minute of samples: 60 cpu samples logged since the client left.
    const cpuSince = () => (server.monitor.hub.entriesAfter(seqOf(lastId)) ?? []).filter((entry) => entry.event === 'cpu').length;
    await waitFor(() => cpuSince() >= 60, 30_000);
    const missed = server.monitor.hub.entriesAfter(seqOf(lastId)) ?? [];
    expect(missed.length).toBeGreaterThan(60 * 4); // a minute of every 1 Hz topic
    const after = await open(`${server.url}api/events`, { 'Last-Event-ID': lastId });
    const lastMissedSeq = missed.at(-1)?.seq as number;
    await after.until((frames) => frames.some((f) => f.id !== undefined && seqOf(f.id) >= lastMissedSeq));
    const hello = after.events()[0]?.data as HelloPayload;
    expect(hello.mode).toBe('resume');
    const resumed = after
      .events()
      .filter((e) => e.id !== undefined && seqOf(e.id) <= lastMissedSeq)
      .map((e) => seqOf(e.id));
    expect(resumed).toEqual(missed.map((entry) => entry.seq));
  });

  it('a server killed with SIGKILL and restarted on its port: the client reconnects by itself and learns the new boot', async () => {
    const first = await spawnServer(['--port', '0', '--interval', '200ms', '--retry', '300ms']);
    const hellos: HelloPayload[] = [];
    const ids: string[] = [];
    const source = new EventSource(`${first.url}api/events?topics=cpu`);
    source.addEventListener('hello', (event) => hellos.push(JSON.parse(event.data) as HelloPayload));
    source.addEventListener('cpu', (event) => ids.push(event.lastEventId));
    try {
      await waitFor(() => ids.length >= 2);
      first.child.kill('SIGKILL');
      await first.stop();
      const second = await spawnServer(['--port', String(first.port), '--interval', '200ms']);
      try {
        await waitFor(() => hellos.length >= 2 && ids.length > 0 && !ids.at(-1)?.startsWith(hellos[0]?.bootId ?? '?'));
        expect(hellos[1]?.bootId).not.toBe(hellos[0]?.bootId);
        // The old id names a boot the new server never had: it answers with a reset backfill.
        expect(hellos[1]?.mode).toBe('reset');
        expect(ids.at(-1)?.startsWith(`${hellos[1]?.bootId}-`)).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      source.close();
    }
  });

  it('10 000 connect-and-drop cycles leave no stream, socket, handle, listener or heap growth behind', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Sampling slowly keeps the event log from growing during the test: what grows must be leaks.
    const server = await start({ intervalMs: 60_000, heartbeatMs: 60_000, historyMs: 120_000 });
    const { monitor } = server;
    const measure = async () => {
      await waitFor(() => monitor.streams.count === 0);
      for (let i = 0; i < 3; i++) {
        gc();
        await sleep(50);
      }
      const connections = await new Promise<number>((resolve) => server.server.getConnections((_, n) => resolve(n)));
      const handles = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap').length;
      return {
        heapUsed: process.memoryUsage().heapUsed,
        handles,
        connections,
        subscribers: monitor.hub.subscriberCount,
        clients: monitor.streamLimits.clients,
        serverListeners: server.server.eventNames().reduce((n, name) => n + server.server.listenerCount(name), 0),
      };
    };
    await churn(server.port, 500); // warm-up: JIT, pools
    const before = await measure();
    const started = Date.now();
    await churn(server.port, 10_000);
    const after = await measure();
    console.log(`churn: 10000 cycles in ${Date.now() - started} ms; before ${JSON.stringify(before)}; after ${JSON.stringify(after)}`);
    expect(after.connections).toBe(0);
    expect(after.subscribers).toBe(0);
    expect(after.clients).toBe(0);
    expect(after.handles).toBeLessThanOrEqual(before.handles);
    expect(after.serverListeners).toBe(before.serverListeners);
    // Noise of a 10 000-request run is a few hundred KiB; a leak of even 200 bytes per cycle would be 2 MB.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});

/** Opens an event stream on a raw socket and drops it: after the hello, right after the request, or half-way through it. */
async function churn(port: number, cycles: number, concurrency = 25): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cycles) {
      const cycle = next++;
      await new Promise<void>((resolve) => {
        const socket: Socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => resolve());
        const request = 'GET /api/events?topics=cpu HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n';
        if (cycle % 3 === 0) {
          socket.write(request.slice(0, 20), () => socket.destroy());
          return;
        }
        socket.write(request);
        if (cycle % 3 === 1) socket.destroy();
        else socket.once('data', () => socket.destroy());
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}
