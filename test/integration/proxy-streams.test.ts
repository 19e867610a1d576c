import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { StatusClass } from '../../server/protocol.js';
import { RequestStats } from '../../server/requests/stats.js';
import type { RunningServer } from '../../server/serve.js';
import { startTestServer } from '../helpers/server.js';

/** The proxy with long-lived and large exchanges: WebSocket upgrades and 50 MB streamed each way. */

const MB = 1024 * 1024;
const TOTAL = 50 * MB;
/**
 * A proxy that ignores backpressure holds the rest of the body in Buffers (measured: 41-43 MB of the 50);
 * this one holds 0.2-0.45 MB while a side is held back. (The bytes in flight are no measure: loopback
 * sockets may hold 32 MB each here, tcp_rmem.)
 */
const MAX_HELD_BUFFERS = 4 * MB;

// Buffers still referenced, garbage collected first (this process runs the proxy, the upstream and the client).
setFlagsFromString('--expose_gc');
const collectGarbage = runInNewContext('gc') as () => void;
async function liveBufferBytes(): Promise<number> {
  // Twice, a turn apart: the memory of Buffers is given back after the collection that finds them dead.
  collectGarbage();
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  return process.memoryUsage().arrayBuffers;
}
const CHUNK = Buffer.alloc(MB, 'x');

/** Resolves once `count()` has not changed for `quietMs`: the side that moves it is held back. */
async function stalled(count: () => number, quietMs = 300, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error('never held back');
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (count() !== last) {
      last = count();
      since = Date.now();
    }
  }
}

const waitFor = async (predicate: () => boolean, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** The upstream's side of the transfers, observable by the test. */
const upstream = {
  downloadWritten: 0,
  uploadRead: 0,
  uploadPaused: false,
  resumeUpload: () => {},
  upgradeHeaders: {} as IncomingMessage['headers'],
};

function download(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TOTAL });
  const more = () => {
    while (upstream.downloadWritten < TOTAL) {
      upstream.downloadWritten += CHUNK.length;
      if (!res.write(CHUNK)) {
        res.once('drain', more);
        return;
      }
    }
    res.end();
  };
  more();
}

function upload(req: IncomingMessage, res: ServerResponse): void {
  req.on('data', (chunk: Buffer) => {
    upstream.uploadRead += chunk.length;
    // Stop reading once, after 5 MB: the client must then be held back, not the bytes piled up in the proxy.
    if (upstream.uploadRead >= 5 * MB && !upstream.uploadPaused && upstream.resumeUpload === noop) {
      upstream.uploadPaused = true;
      req.pause();
      upstream.resumeUpload = () => {
        upstream.uploadPaused = false;
        req.resume();
      };
    }
  });
  req.on('end', () => res.end(String(upstream.uploadRead)));
}
const noop = () => {};
upstream.resumeUpload = noop;

/**
 * Established TCP sockets with their keep-alive timer running, from the kernel's socket tables (`tr` 2 in
 * /proc/net/tcp), whose local or remote port is `port`.
 */
function keepAliveTimers(side: 'local' | 'remote', port: number): number {
  let found = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, remote, state, , timer] = line.trim().split(/\s+/);
      if (!local || !remote || state !== '01' || !timer?.startsWith('02:')) continue;
      const address = side === 'local' ? local : remote;
      if (Number.parseInt(address.slice(address.lastIndexOf(':') + 1), 16) === port) found++;
    }
  }
  return found;
}

let app: ReturnType<typeof createServer>;
let sockets: WebSocketServer;
let running: RunningServer;
const ended: { route: string; status: StatusClass; ms: number }[] = [];

beforeAll(async () => {
  app = createServer((req, res) => (req.url === '/download' ? download(res) : upload(req, res)));
  sockets = new WebSocketServer({ server: app });
  sockets.on('connection', (socket, req) => {
    upstream.upgradeHeaders = req.headers;
    socket.on('message', (data) => socket.send(`echo ${String(data)}`));
    socket.send('hello from upstream');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const requestStats = new RequestStats({ source: 'proxy' });
  requestStats.onRequestEnded((route, status, ms) => ended.push({ route, status, ms }));
  running = await startTestServer(
    { proxy: new URL(`http://127.0.0.1:${(app.address() as AddressInfo).port}`), proxyPort: 0 },
    { requestStats },
  );
});
afterAll(async () => {
  await running?.close();
  sockets?.close();
  app?.closeAllConnections();
  await new Promise((resolve) => app?.close(resolve));
});

describe('proxy: long and large exchanges', () => {
  it('forwards a WebSocket both ways, counted as one long request when it closes', async () => {
    ended.length = 0;
    const client = new WebSocket(`${running.proxy?.url.replace('http', 'ws')}socket/7`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    client.send('ping');
    await waitFor(() => received.length === 2, 'two messages');
    expect(received).toEqual(['hello from upstream', 'echo ping']);
    expect(upstream.upgradeHeaders['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(ended).toEqual([]); // open: not counted yet
    // Both of the proxy's sockets of the tunnel probe a silent peer. (The table shows one timer per socket:
    // while bytes just sent are not yet acknowledged, the retransmission timer's.)
    const proxyPort = Number(new URL(running.proxy?.url as string).port);
    const appPort = (app.address() as AddressInfo).port;
    await waitFor(
      () => keepAliveTimers('local', proxyPort) === 1 && keepAliveTimers('remote', appPort) === 1,
      'keep-alive on both sockets',
    );
    client.close();
    await waitFor(() => ended.length === 1, 'the connection counted');
    expect(ended[0]).toMatchObject({ route: 'GET /socket/:id', status: '1xx' });
  });

  it('streams a 50 MB download with bounded memory: a client that stops reading holds the upstream back', async () => {
    upstream.downloadWritten = 0;
    let read = 0;
    let gapWhileHeld = -1;
    let heldBuffers = -1;
    const baseline = await liveBufferBytes();
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      request(`${running.proxy?.url}download`, resolve).on('error', reject).end(),
    );
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= 5 * MB && gapWhileHeld < 0) {
          res.pause();
          void stalled(() => upstream.downloadWritten)
            .then(async () => {
              gapWhileHeld = upstream.downloadWritten - read;
              heldBuffers = (await liveBufferBytes()) - baseline;
              res.resume();
            })
            .catch(reject);
          gapWhileHeld = 0;
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    expect(read).toBe(TOTAL);
    expect(gapWhileHeld).toBeGreaterThan(0);
    expect(gapWhileHeld).toBeLessThan(TOTAL - 5 * MB); // held back before the end
    expect(heldBuffers).toBeLessThan(MAX_HELD_BUFFERS);
  });

  it('streams a 50 MB upload with bounded memory: an upstream that stops reading holds the client back', async () => {
    upstream.uploadRead = 0;
    let written = 0;
    let gapWhileHeld = -1;
    let heldBuffers = -1;
    const baseline = await liveBufferBytes();
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(`${running.proxy?.url}upload`, { method: 'POST', headers: { 'content-length': TOTAL } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      const more = () => {
        while (written < TOTAL) {
          written += CHUNK.length;
          if (!req.write(CHUNK)) {
            req.once('drain', more);
            return;
          }
        }
        req.end();
      };
      more();
      // Once the upstream has stopped reading, the client must come to a stop too, a few MB ahead at most.
      void waitFor(() => upstream.uploadPaused, 'the upstream to stop reading')
        .then(() => stalled(() => written))
        .then(async () => {
          gapWhileHeld = written - upstream.uploadRead;
          heldBuffers = (await liveBufferBytes()) - baseline;
          upstream.resumeUpload();
        })
        .catch(reject);
    });
    expect(answer).toBe(String(TOTAL));
    expect(gapWhileHeld).toBeGreaterThan(0);
    expect(gapWhileHeld).toBeLessThan(TOTAL - 5 * MB); // held back before the end
    expect(heldBuffers).toBeLessThan(MAX_HELD_BUFFERS);
  });
});

describe('proxy: upgrades the upstream does not take', () => {
  it('answers 502 when the upstream is unreachable, counted 5xx', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const requestStats = new RequestStats({ source: 'proxy' });
    const statuses: StatusClass[] = [];
    requestStats.onRequestEnded((_route, status) => statuses.push(status));
    const proxy = await startTestServer({ proxy: new URL(`http://127.0.0.1:${port}`), proxyPort: 0 }, { requestStats });
    try {
      const client = new WebSocket(`${proxy.proxy?.url.replace('http', 'ws')}socket`);
      const status = await new Promise<number>((resolve) => {
        client.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        client.on('error', () => {});
      });
      expect(status).toBe(502);
      await waitFor(() => statuses.length === 1, 'the attempt counted');
      expect(statuses).toEqual(['5xx']);
    } finally {
      await proxy.close();
    }
  });
});
