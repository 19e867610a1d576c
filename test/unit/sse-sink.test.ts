import { createServer, request, type ServerResponse } from 'node:http';
import { connect, createServer as createHttp2Server, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeResponseSink, SSE_HEADERS, type SseSink, WebStreamSink } from '../../server/stream/sink.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A real HTTP/1.1 server whose one route hands its response to a NodeResponseSink; and a client of it. */
async function sinkOverHttp(maxBufferedBytes: number, options: { read?: boolean } = {}) {
  let sink: NodeResponseSink | undefined;
  const socket = { closed: false, destroy: () => {} };
  const server = createServer((_request, response: ServerResponse) => {
    sink = new NodeResponseSink(response, maxBufferedBytes, SSE_HEADERS);
    response.socket?.on('close', () => (socket.closed = true));
    socket.destroy = () => response.socket?.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const client = { status: 0, headers: {} as Record<string, unknown>, body: '', ended: false, destroy: () => {} };
  const req = request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (response) => {
    client.status = response.statusCode ?? 0;
    client.headers = response.headers;
    if (options.read === false) response.pause();
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (client.body += chunk));
    response.on('end', () => (client.ended = true));
    response.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
  client.destroy = () => req.destroy();
  cleanups.push(() => req.destroy());
  await until(() => sink !== undefined && client.status !== 0, 'the response headers');
  return { sink: sink as NodeResponseSink, client, socket };
}

function closeCounter(sink: SseSink): () => number {
  let closes = 0;
  sink.onClose(() => closes++);
  return () => closes;
}

describe('NodeResponseSink', () => {
  it('sends 200 and the SSE headers before any event, so a quiet stream looks open', async () => {
    const { client } = await sinkOverHttp(4096);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-accel-buffering']).toBe('no');
  });

  it('writes the handshake and then events, in order', async () => {
    const { sink, client } = await sinkOverHttp(4096);
    expect(sink.begin(Buffer.from('retry: 1\n\n'))).toBe(true);
    expect(sink.write(Buffer.from(': a\n\n'))).toBe(true);
    await until(() => client.body === 'retry: 1\n\n: a\n\n', 'both writes');
  });

  it('does not count a long handshake against the bound, but drops a client that then stops reading', async () => {
    const { sink, client } = await sinkOverHttp(4096, { read: false });
    const closes = closeCounter(sink);
    expect(sink.begin(Buffer.alloc(512 * 1024, 'x'))).toBe(true);
    let accepted = 0;
    while (sink.write(Buffer.alloc(1024, 'y'))) {
      accepted++;
      if (accepted > 100_000) throw new Error('never dropped');
    }
    expect(closes()).toBe(1);
    expect(sink.write(Buffer.from('z'))).toBe(false);
    // It was dropped past the bound, not at once: the kernel and Node took a few writes first.
    expect(accepted).toBeGreaterThan(0);
    client.destroy();
  });

  it('ends the response on end(): the client sees the stream end, and the sink takes nothing more', async () => {
    const { sink, client } = await sinkOverHttp(4096);
    const closes = closeCounter(sink);
    sink.begin(Buffer.from(': hello\n\n'));
    sink.end();
    sink.end();
    expect(closes()).toBe(1);
    expect(sink.write(Buffer.from(': late\n\n'))).toBe(false);
    await until(() => client.ended, 'the end of the response');
    expect(client.body).toBe(': hello\n\n');
  });

  it('tells its close listeners once when the client goes away, and at once a listener that comes late', async () => {
    const { sink, client, socket } = await sinkOverHttp(4096);
    const closes = closeCounter(sink);
    client.destroy();
    await until(() => socket.closed, 'the server socket to close'); // after the response's own close
    expect(closes()).toBe(1);
    let late = 0;
    sink.onClose(() => late++);
    expect(late).toBe(1);
    expect(sink.write(Buffer.from(': x\n\n'))).toBe(false);
  });

  it('closes when the server cuts the connection under it (a shutdown, a timeout)', async () => {
    const { sink, socket } = await sinkOverHttp(4096);
    const closes = closeCounter(sink);
    socket.destroy();
    await until(() => closes() === 1, 'the sink to close');
    expect(sink.write(Buffer.from(': x\n\n'))).toBe(false);
  });

  it('on HTTP/2 follows the stream, not the shared socket', async () => {
    const sinks: NodeResponseSink[] = [];
    const socketListeners: number[] = [];
    const server = createHttp2Server((_request, response: Http2ServerResponse) => {
      sinks.push(new NodeResponseSink(response, 4096, SSE_HEADERS));
      socketListeners.push(response.socket.listenerCount('close'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    cleanups.push(() => session.destroy());
    const streams = [session.request({ ':path': '/' }), session.request({ ':path': '/' })];
    for (const stream of streams) stream.on('error', () => {});
    await until(() => sinks.length === 2, 'two sinks');
    const [first, second] = sinks as [NodeResponseSink, NodeResponseSink];
    const firstCloses = closeCounter(first);
    const secondCloses = closeCounter(second);
    streams[0]?.close();
    await until(() => firstCloses() === 1, 'the first stream to close');
    expect(secondCloses()).toBe(0);
    expect(second.write(Buffer.from(': still here\n\n'))).toBe(true);
    // Nothing is added to the session's socket per stream: ten thousand streams share it.
    const more = Array.from({ length: 20 }, () => session.request({ ':path': '/' }));
    for (const stream of more) stream.on('error', () => {});
    await until(() => sinks.length === 22, 'twenty more sinks');
    expect(socketListeners.at(-1)).toBe(socketListeners[0]);
  });
});

describe('WebStreamSink', () => {
  const read = async (sink: WebStreamSink) => {
    const reader = sink.stream.getReader();
    const chunks: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return chunks.join('');
      chunks.push(Buffer.from(value).toString());
    }
  };

  it('hands the handshake and the events to the reader, and closes the stream on end()', async () => {
    const sink = new WebStreamSink(4096);
    const closes = closeCounter(sink);
    expect(sink.begin(Buffer.from('retry: 1\n\n'))).toBe(true);
    expect(sink.write(Buffer.from(': a\n\n'))).toBe(true);
    sink.end();
    sink.end();
    expect(closes()).toBe(1);
    expect(sink.write(Buffer.from(': b\n\n'))).toBe(false);
    expect(await read(sink)).toBe('retry: 1\n\n: a\n\n');
  });

  it('does not count a long handshake against the bound, but drops a reader that falls behind past it', async () => {
    const sink = new WebStreamSink(4096);
    const closes = closeCounter(sink);
    expect(sink.begin(Buffer.alloc(64 * 1024, 'x'))).toBe(true);
    expect(sink.write(Buffer.alloc(4096, 'y'))).toBe(true); // exactly at the bound: kept
    expect(sink.write(Buffer.from('z'))).toBe(false);
    expect(closes()).toBe(1);
    await expect(read(sink)).rejects.toThrow('client too slow');
  });

  it('closes when the reader cancels', async () => {
    const sink = new WebStreamSink(4096);
    const closes = closeCounter(sink);
    await sink.stream.cancel();
    expect(closes()).toBe(1);
    expect(sink.write(Buffer.from(': x\n\n'))).toBe(false);
  });
});

/**
 * A stand-in for the Node response where the test must set what Node reports (how many bytes wait): the
 * exact bound cannot be reached on a real socket, whose kernel buffer takes a varying share.
 */
class ResponseStandIn {
  writableLength = 0;
  headers: Record<string, string> = {};
  status = 0;
  written: string[] = [];
  ends = 0;
  destroyed = 0;
  private listeners: Record<string, (() => void)[]> = {};
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = { ...headers };
  }
  write(chunk: Uint8Array) {
    this.written.push(Buffer.from(chunk).toString());
    return true;
  }
  end() {
    this.ends++;
  }
  destroy() {
    this.destroyed++;
  }
  on(event: 'close' | 'error', listener: () => void) {
    this.listeners[event] = [...(this.listeners[event] ?? []), listener];
  }
  emit(event: 'close' | 'error') {
    for (const listener of this.listeners[event] ?? []) listener();
  }
}

describe('NodeResponseSink bound, exactly', () => {
  it('keeps a client with exactly the bound waiting, drops it one byte past, and says so on that write', () => {
    const response = new ResponseStandIn();
    const sink = new NodeResponseSink(response, 1000, SSE_HEADERS);
    const closes = closeCounter(sink);
    expect(response.status).toBe(200);
    response.writableLength = 300;
    expect(sink.begin(Buffer.from('hello'))).toBe(true); // a handshake of 5 bytes: the bound is now 1005
    response.writableLength = 1005;
    expect(sink.write(Buffer.from('a'))).toBe(true);
    response.writableLength = 1006;
    expect(sink.write(Buffer.from('b'))).toBe(false);
    expect(response.destroyed).toBe(1);
    expect(closes()).toBe(1);
    expect(sink.write(Buffer.from('c'))).toBe(false);
    expect(response.written).toEqual(['hello', 'a', 'b']);
  });

  it('ends the response once, and not at all after the client left', () => {
    const response = new ResponseStandIn();
    const sink = new NodeResponseSink(response, 1000, SSE_HEADERS);
    sink.end();
    sink.end();
    expect(response.ends).toBe(1);
    const gone = new ResponseStandIn();
    const dropped = new NodeResponseSink(gone, 1000, SSE_HEADERS);
    gone.emit('error');
    dropped.end();
    expect(gone.ends).toBe(0);
  });
});

describe('NodeResponseSink close sources', () => {
  it('closes when only the response says close', () => {
    const response = new ResponseStandIn();
    const closes = closeCounter(new NodeResponseSink(response, 1000, SSE_HEADERS));
    response.emit('close');
    expect(closes()).toBe(1);
  });
});
