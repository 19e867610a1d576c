import { createServer as createHttpServer, type IncomingHttpHeaders, request } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ConnectionTimeouts, proxyConnectionTimeouts } from '../../server/lib/connection-timeouts.js';
import type { StatusClass } from '../../server/protocol.js';
import { RequestStats } from '../../server/requests/stats.js';
import type { RunningServer } from '../../server/serve.js';
import { startTestServer } from '../helpers/server.js';

/**
 * The reverse proxy against upstreams that misbehave: one that dies mid-response, one that never answers,
 * one that goes quiet mid-response, and what of the client's request reaches the upstream at all.
 */

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const TIMEOUT_MS = 300;

async function listening(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

/** An upstream speaking raw bytes: `answer` gets each connection once its request has arrived. */
async function rawUpstream(answer: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => answer(socket));
  });
  cleanup.push(() => {
    for (const socket of sockets) socket.destroy();
  });
  return listening(server);
}

/** The dashboard with --proxy to the upstream; every request the proxy measures is recorded. */
async function proxyTo(
  upstreamPort: number,
  connectionTimeouts?: Partial<ConnectionTimeouts>,
): Promise<{ url: URL; ended: { route: string; status: StatusClass }[] }> {
  const requestStats = new RequestStats({ source: 'proxy' });
  const ended: { route: string; status: StatusClass }[] = [];
  requestStats.onRequestEnded((route, status) => ended.push({ route, status }));
  const running: RunningServer = await startTestServer(
    { proxy: new URL(`http://127.0.0.1:${upstreamPort}`), proxyPort: 0, proxyTimeoutMs: TIMEOUT_MS },
    { requestStats, connectionTimeouts },
  );
  cleanup.push(() => running.close());
  return { url: new URL(running.proxy?.url as string), ended };
}

/** A raw HTTP exchange: resolves when the proxy closes the connection (or after `capMs`, which only a hang reaches). */
function exchange(url: URL, bytes: string, capMs = 10_000): Promise<{ answer: string; closedByProxy: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    const cap = setTimeout(() => {
      socket.destroy();
      resolve({ answer, closedByProxy: false });
    }, capMs);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(cap);
      resolve({ answer, closedByProxy: true });
    });
    socket.write(bytes);
  });
}

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const GET = 'GET /report/7 HTTP/1.1\r\nHost: app.example\r\n\r\n';

describe('proxy: an upstream that fails the client', () => {
  it('dies after 7 of 1000 promised bytes: the client sees the 200 cut short and its connection closed; counted aborted', async () => {
    const upstream = await rawUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n1234567'));
    const proxy = await proxyTo(upstream);
    const { answer, closedByProxy } = await exchange(proxy.url, GET);
    expect(closedByProxy).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.split('\r\n\r\n')[1]).toBe('1234567');
    await waitFor(() => proxy.ended.length === 1);
    expect(proxy.ended).toEqual([{ route: 'GET /report/:id', status: 'aborted' }]);
  });

  it('dies in the middle of a chunked body: the client gets no last chunk and a closed connection', async () => {
    const upstream = await rawUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n1234567\r\n'));
    const proxy = await proxyTo(upstream);
    const { answer, closedByProxy } = await exchange(proxy.url, GET);
    expect(closedByProxy).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).not.toMatch(/\r\n0\r\n\r\n$/);
  });

  it('never answers: 504 after --proxy-timeout, with a JSON reason; counted 5xx', async () => {
    const upstream = await rawUpstream(() => {});
    const proxy = await proxyTo(upstream);
    const { answer } = await exchange(proxy.url, `${GET.slice(0, -2)}Connection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 504 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual({
      error: `upstream http://127.0.0.1:${upstream} did not answer within 300ms (--proxy-timeout)`,
    });
    await waitFor(() => proxy.ended.length === 1);
    expect(proxy.ended[0]?.status).toBe('5xx');
  });

  it('goes quiet after the response began: the client connection is cut after --proxy-timeout; counted aborted', async () => {
    const upstream = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n1234567'));
    const proxy = await proxyTo(upstream);
    const { answer, closedByProxy } = await exchange(proxy.url, GET);
    expect(closedByProxy).toBe(true);
    expect(answer.split('\r\n\r\n')[1]).toBe('1234567');
    await waitFor(() => proxy.ended.length === 1);
    expect(proxy.ended[0]?.status).toBe('aborted');
  });

  it('is not blamed for a client that stops reading for longer than --proxy-timeout: the whole body arrives', async () => {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const app = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(total) });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const proxy = await proxyTo(await listening(app));
    const received = await new Promise<number>((resolve, reject) => {
      const req = request(proxy.url, (res) => {
        let bytes = 0;
        res.once('data', (first: Buffer) => {
          bytes += first.length;
          // Stop reading for five timeouts: the proxy's buffers fill and the upstream waits on us.
          res.pause();
          setTimeout(() => {
            res.on('data', (more: Buffer) => (bytes += more.length));
            res.resume();
          }, TIMEOUT_MS * 5);
        });
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe(total);
  });
});

describe('proxy: what reaches the upstream', () => {
  async function recordingUpstream(respond: (res: import('node:http').ServerResponse) => void = (res) => res.end('ok')) {
    const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const app = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        respond(res);
      });
    });
    return { port: await listening(app), seen };
  }

  it('is not blamed for a client that pauses its upload for longer than --proxy-timeout', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.port);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(proxy.url.port), proxy.url.hostname);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.write('POST /upload HTTP/1.1\r\nHost: app.example\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345');
      setTimeout(() => socket.write('67890'), TIMEOUT_MS * 5);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(upstream.seen[0]?.body).toBe('1234567890');
  });

  it("strips the dashboard's token cookie and only it, drops hop-by-hop headers and those Connection names", async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.port);
    const { answer } = await exchange(
      proxy.url,
      'POST /orders HTTP/1.1\r\nHost: app.example\r\n' +
        'Cookie: theme=dark; pulseboard_token=SECRET-TOKEN-0123456789; session=abc\r\n' +
        'Connection: keep-alive, X-Internal\r\nX-Internal: hop\r\nKeep-Alive: timeout=5\r\n' +
        'Proxy-Authorization: Basic eA==\r\nTE: trailers\r\nX-Request-Id: r-1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const [seen] = upstream.seen;
    expect(seen?.body).toBe('hello');
    expect(seen?.headers.cookie).toBe('theme=dark; session=abc');
    expect(seen?.headers['x-request-id']).toBe('r-1');
    for (const name of ['x-internal', 'keep-alive', 'proxy-authorization', 'te']) expect(seen?.headers).not.toHaveProperty(name);

    const onlyOurs = await fetch(new URL('/orders', proxy.url), { headers: { Cookie: 'pulseboard_token=SECRET-TOKEN-0123456789' } });
    expect(onlyOurs.status).toBe(200);
    expect(upstream.seen[1]?.headers).not.toHaveProperty('cookie');
  });

  it('sends an absolute-form target upstream as a path, and refuses a target that is neither', async () => {
    const upstream = await recordingUpstream();
    const proxy = await proxyTo(upstream.port);
    const absolute = await exchange(
      proxy.url,
      'GET http://evil.example/admin?x=1 HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n',
    );
    expect(absolute.answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(upstream.seen[0]?.url).toBe('/admin?x=1');
    expect(upstream.seen[0]?.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    await waitFor(() => proxy.ended.length === 1);
    expect(proxy.ended[0]?.route).toBe('GET /admin');

    const asterisk = await exchange(proxy.url, 'GET * HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n');
    expect(asterisk.answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(asterisk.answer).not.toMatch(/at \w+ \(/);
    expect(upstream.seen).toHaveLength(1);
  });

  it("never lets the upstream set the dashboard's cookie, and passes its own cookies on", async () => {
    const upstream = await recordingUpstream((res) => {
      res.setHeader('Set-Cookie', ['pulseboard_token=planted; Path=/', 'session=abc']);
      res.end('ok');
    });
    const proxy = await proxyTo(upstream.port);
    const response = await fetch(proxy.url);
    expect(await response.text()).toBe('ok');
    expect(response.headers.getSetCookie()).toEqual(['session=abc']);
  });

  it("drops the upstream's hop-by-hop response headers and those its Connection names", async () => {
    const upstream = await recordingUpstream((res) => {
      res.writeHead(200, { Connection: 'X-Upstream-Private', 'X-Upstream-Private': '1', 'Keep-Alive': 'timeout=9', 'X-Public': '1' });
      res.end('ok');
    });
    const proxy = await proxyTo(upstream.port);
    const response = await fetch(proxy.url);
    expect(await response.text()).toBe('ok');
    expect(response.headers.get('x-public')).toBe('1');
    expect(response.headers.get('x-upstream-private')).toBeNull();
    expect(response.headers.get('keep-alive')).not.toBe('timeout=9');
  });
});

describe('proxy: HEAD', () => {
  it('forwards HEAD as HEAD and answers with the upstream head, quietly (it wrote the head twice and logged a trace each time)', async () => {
    const seen: string[] = [];
    const app = createHttpServer((req, res) => {
      seen.push(req.method ?? '');
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '5' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const proxy = await proxyTo(await listening(app));
    const logged = vi.spyOn(console, 'error');
    try {
      for (let i = 0; i < 5; i++) {
        const head = await fetch(new URL('/report/7', proxy.url), { method: 'HEAD' });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-length')).toBe('5');
        expect(await head.text()).toBe('');
      }
      const get = await fetch(new URL('/report/7', proxy.url));
      expect(await get.text()).toBe('hello');
      await waitFor(() => proxy.ended.length === 6);
      expect(seen).toEqual(['HEAD', 'HEAD', 'HEAD', 'HEAD', 'HEAD', 'GET']);
      expect(proxy.ended.map((ended) => `${ended.route} ${ended.status}`)).toEqual([
        ...Array(5).fill('HEAD /report/:id 2xx'),
        'GET /report/:id 2xx',
      ]);
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });
});

describe('proxy: its own listener times out like the dashboard', () => {
  const SHORT = { headersMs: 300, keepAliveMs: 300, idleMs: 800, checkEveryMs: 50 };

  it('closes a connection whose headers never end, one idle after its response, and one that announces a body and sends none', async () => {
    const upstream = await listening(createHttpServer((req, res) => req.resume().on('end', () => res.end('ok'))));
    const proxy = await proxyTo(upstream, SHORT);
    const [unfinished, idle, noBody] = await Promise.all([
      exchange(proxy.url, 'GET / HTTP/1.1\r\nHost: x\r\n'),
      exchange(proxy.url, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      exchange(proxy.url, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n'),
    ]);
    expect(unfinished.closedByProxy).toBe(true);
    expect(idle.closedByProxy).toBe(true);
    expect(idle.answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(noBody.closedByProxy).toBe(true);
    expect(noBody.answer).not.toMatch(/^HTTP\/1\.1 200 /);
  });

  it('in production: headers within 10 s, no bound on a whole upload, idle after 60 s or --proxy-timeout if longer', () => {
    expect(proxyConnectionTimeouts(30_000)).toEqual({
      headersMs: 10_000,
      requestMs: 0,
      keepAliveMs: 5_000,
      idleMs: 60_000,
      checkEveryMs: 1_000,
    });
    expect(proxyConnectionTimeouts(300_000).idleMs).toBe(300_000);
  });
});
