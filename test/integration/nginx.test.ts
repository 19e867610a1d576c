import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelloPayload } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type RunningNginx, startNginx } from '../helpers/nginx.js';
import { startTestServer } from '../helpers/server.js';
import { seqOf } from '../helpers/sse-reader.js';

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
  it('delivers each event as it is published, not in buffered bursts', async () => {
    const source = new EventSource(`${nginx.url}api/events?topics=cpu`);
    const lags: number[] = [];
    const arrivals: number[] = [];
    source.addEventListener('cpu', (event) => {
      const sample = JSON.parse(event.data) as { t: number };
      arrivals.push(Date.now());
      lags.push(Date.now() - sample.t);
    });
    await waitFor(() => arrivals.length >= 20);
    source.close();
    // Each event is ~150 bytes: a buffering proxy would hold dozens of them until its 4-8 KiB buffer fills.
    lags.sort((a, b) => a - b);
    const p90 = lags[Math.floor(lags.length * 0.9)] as number;
    console.log(`nginx: publish-to-receipt lag of 20 cpu events at 100 ms: p50 ${lags[10]} ms, p90 ${p90} ms, max ${lags.at(-1)} ms`);
    expect(p90).toBeLessThan(250);
    const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] as number));
    expect(gaps.filter((gap) => gap >= 50).length).toBeGreaterThanOrEqual(15);
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
