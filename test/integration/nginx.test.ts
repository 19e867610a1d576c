import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelloPayload } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type RunningNginx, startNginx } from '../helpers/nginx.js';
import { startTestServer } from '../helpers/server.js';
import { seqOf } from '../helpers/sse-reader.js';
import { steerableCpu } from '../helpers/steerable.js';

let server: RunningServer;
let nginx: RunningNginx;
beforeAll(async () => {
  server = await startTestServer({ intervalMs: 100, retryMs: 200 });
  nginx = await startNginx(server.port);
});
afterAll(async () => {
  await nginx?.stop();
  await server?.close();
});

const waitFor = async (predicate: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('behind nginx (the README configuration)', () => {
  it('delivers each event as it is published, not held until a buffer fills', async () => {
    // A server that publishes only when the test does: each ~150-byte event must reach the client before the
    // next is published. A buffering proxy would hold them until its 4-8 KiB buffer filled, and the first
    // wait would time out. (The delay through nginx is measured by `npm run bench`, nginx rows.)
    const cpu = steerableCpu(3_600_000);
    const quiet = await startTestServer({ intervalMs: 3_600_000, heartbeatMs: 300_000 }, { collectors: [cpu.collector] });
    const proxy = await startNginx(quiet.port);
    const source = new EventSource(`${proxy.url}api/events?topics=cpu`);
    const received: number[] = [];
    let opened = false;
    source.addEventListener('backfill', () => (opened = true));
    source.addEventListener('cpu', (event) => received.push(seqOf(event.lastEventId)));
    try {
      await waitFor(() => opened);
      for (let i = 0; i < 20; i++) {
        const t = Date.now();
        const { seq } = quiet.monitor.hub.publish('cpu', { t, total: i, user: i, system: 0, iowait: 0, cores: [i], load: [0, 0, 0] });
        await waitFor(() => received.includes(seq));
      }
      expect(received.slice(-20)).toEqual(Array.from({ length: 20 }, (_, i) => (received.at(-20) as number) + i));
    } finally {
      source.close();
      await proxy.stop();
      await quiet.close();
    }
  });

  it('resumes through nginx after the connection is cut: the missed events once each, in order', async () => {
    const source = new EventSource(`${nginx.url}api/events?topics=cpu`);
    const hellos: HelloPayload[] = [];
    const seqs: number[] = [];
    source.addEventListener('hello', (event) => hellos.push(JSON.parse(event.data) as HelloPayload));
    source.addEventListener('cpu', (event) => seqs.push(seqOf(event.lastEventId)));
    try {
      await waitFor(() => seqs.length >= 5);
      server.dropConnections(); // nginx sees its upstream go; the client sees its stream end
      const cutAt = seqs.length;
      await waitFor(() => hellos.length >= 2 && seqs.length >= cutAt + 10);
      expect(hellos[1]?.mode).toBe('resume');
      const first = seqs[0] as number;
      const logged = (server.monitor.hub.entriesAfter(first - 1) ?? []).filter((entry) => entry.event === 'cpu');
      const last = seqs.at(-1) as number;
      expect(seqs).toEqual(logged.filter((entry) => entry.seq <= last).map((entry) => entry.seq));
    } finally {
      source.close();
    }
  });

  it('passes the stream headers through and does not compress the stream', async () => {
    const controller = new AbortController();
    const response = await fetch(`${nginx.url}api/events?topics=cpu`, {
      headers: { 'Accept-Encoding': 'gzip' },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('content-encoding')).toBeNull();
    controller.abort();
  });
});
