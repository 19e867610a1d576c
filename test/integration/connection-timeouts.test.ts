import { connect as connectHttp2 } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionTimeouts, connectionTimeouts } from '../../server/lib/connection-timeouts.js';
import type { RunningServer } from '../../server/serve.js';
import { startTestServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';
import { selfSignedCertificate } from '../helpers/tls.js';

// The production timeouts are seconds to minutes; these servers get short ones through the same option.
const SHORT: ConnectionTimeouts = { headersMs: 300, requestMs: 600, keepAliveMs: 300, idleMs: 800, checkEveryMs: 50 };
/** Only catches a connection that is never closed (before the fix: 300 s over TLS, never over HTTP/2). */
const HANG_MS = 15_000;

/** Resolves with the ms from now until `socket` closes; rejects if it is still open after HANG_MS. */
function closedWithin(socket: { once(event: 'close', listener: () => void): unknown }, what: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: still open after ${HANG_MS} ms`)), HANG_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      console.log(`connection timeouts: ${what}: closed after ${ms} ms`);
      resolve(ms);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connection timeouts, the same on every listener', () => {
  let tls: ReturnType<typeof selfSignedCertificate>;
  let https: RunningServer;
  let http: RunningServer;

  beforeAll(async () => {
    tls = selfSignedCertificate();
    https = await startTestServer({ tlsCert: tls.certPath, tlsKey: tls.keyPath }, { connectionTimeouts: SHORT });
    http = await startTestServer({}, { connectionTimeouts: SHORT });
  });
  afterAll(async () => {
    await https?.close();
    await http?.close();
  });

  // Every client here reads what it is sent: a socket whose data is never read never emits 'close'.
  const tlsSocket = (): Promise<TLSSocket> =>
    new Promise((resolve, reject) => {
      const socket = connectTls({
        host: '127.0.0.1',
        port: https.port,
        ca: tls.cert,
        servername: 'localhost',
        ALPNProtocols: ['http/1.1'],
      });
      socket.once('secureConnect', () => resolve(socket));
      socket.once('error', reject);
      socket.resume();
    });

  it('closes an HTTP/2 session that sends nothing', async () => {
    const session = connectHttp2(https.url, { ca: tls.cert });
    session.on('error', () => {});
    await new Promise((resolve) => session.once('connect', resolve));
    await closedWithin(session, 'idle HTTP/2 session');
  });

  it('closes an HTTP/2 session that opened a request with a body and never sent the body', async () => {
    const session = connectHttp2(https.url, { ca: tls.cert });
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': '/api/snapshot', 'content-length': '100' }, { endStream: false });
    stream.on('error', () => {});
    stream.resume();
    await closedWithin(session, 'HTTP/2 request without its body');
  });

  it('closes an HTTP/1.1-over-TLS request that announces Content-Length: 100 and sends no body', async () => {
    const socket = await tlsSocket();
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    await closedWithin(socket, 'HTTP/1.1 over TLS, Content-Length: 100 and no body');
  });

  it('closes an HTTP/1.1-over-TLS connection whose headers never end, and one idle after its request', async () => {
    const slow = await tlsSocket();
    slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const idle = await tlsSocket();
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await Promise.all([
      closedWithin(slow, 'HTTP/1.1 over TLS, unfinished headers'),
      closedWithin(idle, 'HTTP/1.1 over TLS, idle keep-alive'),
    ]);
  });

  it('closes a plain HTTP/1.1 request that announces Content-Length: 100 and sends no body', async () => {
    const socket: Socket = connectTcp(http.port, '127.0.0.1');
    socket.resume();
    socket.on('error', () => {});
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    await closedWithin(socket, 'plain HTTP/1.1, Content-Length: 100 and no body');
  });

  it('never cuts an event stream, whose request ended with its headers: HTTP/2, HTTP/1.1 over TLS, plain HTTP/1.1', async () => {
    const session = connectHttp2(https.url, { ca: tls.cert });
    session.on('error', () => {});
    const http2Stream = session.request({ ':path': '/api/events?topics=cpu', accept: 'text/event-stream' });
    let http2Text = '';
    http2Stream.setEncoding('utf8');
    http2Stream.on('data', (chunk: string) => (http2Text += chunk));
    const overTls = await tlsSocket();
    let overTlsText = '';
    overTls.on('data', (chunk: Buffer) => (overTlsText += chunk.toString()));
    overTls.write('GET /api/events?topics=cpu HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    const plain = await openSse(`${http.url}api/events?topics=cpu`);
    try {
      // Four idle timeouts and then some: a stream's heartbeats and events keep its connection busy.
      await sleep(4 * SHORT.idleMs + SHORT.requestMs);
      const http2Before = http2Text.length;
      const overTlsBefore = overTlsText.length;
      const plainBefore = plain.frames.length;
      await sleep(600);
      expect(session.closed || session.destroyed).toBe(false);
      expect(http2Text.length).toBeGreaterThan(http2Before);
      expect(overTls.destroyed).toBe(false);
      expect(overTlsText.length).toBeGreaterThan(overTlsBefore);
      expect(plain.frames.length).toBeGreaterThan(plainBefore);
      expect(plain.frames.some((frame) => frame.kind === 'comment')).toBe(true);
    } finally {
      plain.close();
      overTls.destroy();
      session.destroy();
    }
  });

  it('in production: headers within 10 s, a whole request within 30 s, idle after 2 heartbeats and never before 60 s', () => {
    expect(connectionTimeouts(15_000)).toEqual({
      headersMs: 10_000,
      requestMs: 30_000,
      keepAliveMs: 5_000,
      idleMs: 60_000,
      checkEveryMs: 1_000,
    });
    expect(connectionTimeouts(300_000).idleMs).toBe(600_000);
  });
});
