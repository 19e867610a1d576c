import { createHook } from 'node:async_hooks';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Listening, listen, type RequestListener } from '../../server/http/listen.js';
import type { ConnectionTimeouts } from '../../server/lib/connection-timeouts.js';

// Short timeouts through the same option as production's; a check interval Node would run every 50 ms.
const SHORT: Partial<ConnectionTimeouts> = { headersMs: 300, requestMs: 600, keepAliveMs: 2_000, checkEveryMs: 50 };
/** Only catches a connection that is never closed. */
const HANG_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const answer: RequestListener = async (_request, response) => {
  // Node's cached Date header has a timer of its own, which would fire after a response.
  response.sendDate = false;
  response.end('ok');
};

/** Counts the callbacks run, until `waitMs` after `during`, by the timers `during` created (Node's own included). */
async function timerCallbacks(during: () => Promise<void>, waitMs: number): Promise<number> {
  const created = new Set<number>();
  let recording = true;
  let calls = 0;
  const hook = createHook({
    init(id, type) {
      if (recording && type === 'Timeout') created.add(id);
    },
    before(id) {
      if (created.has(id)) calls++;
    },
  });
  hook.enable();
  try {
    await during();
    recording = false;
    await sleep(waitMs);
  } finally {
    hook.disable();
  }
  return calls;
}

/** A plain TCP client that keeps everything it is sent. */
function client(port: number): Promise<{ socket: Socket; text: () => string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, text: () => text }));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error(`still open after ${HANG_MS} ms`)), HANG_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('headers and request deadlines: a timer per connection, none without one', () => {
  let server: Listening;

  beforeAll(async () => {
    server = await listen({ host: '127.0.0.1', port: 0, heartbeatMs: 15_000 }, answer, SHORT);
  });
  afterAll(() => server?.close());

  it('wakes nothing while no connection is open (Node checked every connection each checkEveryMs)', async () => {
    let idle: Listening | undefined;
    // Ten of Node's check intervals.
    const calls = await timerCallbacks(
      async () => {
        idle = await listen({ host: '127.0.0.1', port: 0, heartbeatMs: 15_000 }, answer, SHORT);
      },
      10 * (SHORT.checkEveryMs as number),
    );
    await idle?.close();
    expect(calls).toBe(0);
  });

  it('leaves no timer behind once a connection has closed', async () => {
    const calls = await timerCallbacks(
      async () => {
        const { socket, text } = await client(server.port);
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        await closed(socket);
        expect(text()).toMatch(/^HTTP\/1\.1 200/);
      },
      2 * (SHORT.requestMs as number),
    );
    expect(calls).toBe(0);
  });

  it('answers 408 and closes a connection whose first request headers never end', async () => {
    const { socket, text } = await client(server.port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await closed(socket);
    expect(text()).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
  });

  it('gives the next request on a kept-alive connection the same headers deadline, however slowly its bytes come', async () => {
    const { socket, text } = await client(server.port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    // One byte every 50 ms keeps the connection from ever being idle: only the headers deadline ends it.
    const trickle = setInterval(() => socket.writable && socket.write('X'), 50);
    try {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      await closed(socket);
    } finally {
      clearInterval(trickle);
    }
    expect(text()).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nokHTTP\/1\.1 408 Request Timeout\r\n/);
  });
});
