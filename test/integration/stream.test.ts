import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../server/collect/collector.js';
import type { BackfillPayload, HelloPayload, Topic } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { startTestServer } from '../helpers/server.js';
import { type Frame, openSse, seqOf } from '../helpers/sse-reader.js';

const servers: RunningServer[] = [];
const start = async (...args: Parameters<typeof startTestServer>) => {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const eventsNamed = (frames: Frame[], name: string) => frames.filter((f) => f.kind === 'event' && f.event === name);
const liveCount = (frames: Frame[], name: string) => eventsNamed(frames, name).length;
/** Events of these names the server has logged so far. */
const logged = (server: RunningServer, ...names: string[]) => server.monitor.hub.entriesSince(0, (event) => names.includes(event)).length;

describe('GET /api/events', () => {
  it('sends retry, then hello, then backfill, then live events, with the SSE headers and no compression', async () => {
    const server = await start();
    await waitFor(() => logged(server, 'cpu') >= 2);
    const stream = await openSse(`${server.url}api/events`, { 'Accept-Encoding': 'gzip, br' });
    await stream.until((frames) => liveCount(frames, 'cpu') >= 3);
    stream.close();

    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toMatch(/no-cache/);
    expect(stream.headers['x-accel-buffering']).toBe('no');
    expect(stream.headers['content-encoding']).toBeUndefined();

    const [retry, hello, backfill, ...live] = stream.frames;
    expect(retry).toEqual({ kind: 'retry', retry: 200 });
    expect(hello?.event).toBe('hello');
    expect(hello?.id).toBeUndefined();
    const helloData = JSON.parse(hello?.data ?? '') as HelloPayload;
    expect(helloData).toMatchObject({ mode: 'fresh', interval: 100, bootId: server.monitor.hub.bootId, retryMs: 200 });
    expect(helloData.topics).toEqual(expect.arrayContaining(['cpu', 'memory', 'network', 'disk', 'filesystem', 'process']));
    expect(helloData.host.hostname.length).toBeGreaterThan(0);
    expect(helloData.host.cores).toBeGreaterThan(0);

    expect(backfill?.event).toBe('backfill');
    const backfillData = JSON.parse(backfill?.data ?? '') as BackfillPayload;
    expect(backfill?.id).toBe(`${helloData.bootId}-${backfillData.lastSeq}`);
    expect(backfillData.reset).toBe(false);
    expect(backfillData.series.cpu?.t.length).toBeGreaterThanOrEqual(2);
    expect(backfillData.series.cpu?.total.length).toBe(backfillData.series.cpu?.t.length);

    const liveEvents = live.filter((f) => f.kind === 'event');
    expect(seqOf(liveEvents[0]?.id)).toBe(backfillData.lastSeq + 1);
  });

  it('delivers every topic with the right shape', async () => {
    const server = await start();
    const stream = await openSse(`${server.url}api/events`);
    const topics: Topic[] = ['cpu', 'memory', 'network', 'disk', 'filesystem', 'process'];
    await stream.until((frames) => topics.every((topic) => liveCount(frames, topic) >= 2));
    stream.close();
    const latest = (topic: string) =>
      stream
        .events()
        .filter((e) => e.event === topic)
        .at(-1)?.data;
    const cores = server.monitor.host.cores;

    expect(latest('cpu')).toEqual({
      t: expect.any(Number),
      total: expect.any(Number),
      user: expect.any(Number),
      system: expect.any(Number),
      iowait: expect.any(Number),
      cores: expect.any(Array),
      load: [expect.any(Number), expect.any(Number), expect.any(Number)],
    });
    expect(latest('cpu').cores).toHaveLength(cores);
    expect(latest('cpu').total).toBeGreaterThanOrEqual(0);
    expect(latest('cpu').total).toBeLessThanOrEqual(100);
    expect(latest('memory')).toMatchObject({
      total: expect.any(Number),
      used: expect.any(Number),
      available: expect.any(Number),
      swapTotal: expect.any(Number),
    });
    expect(latest('memory').used).toBeLessThanOrEqual(latest('memory').total);
    expect(latest('network')).toMatchObject({ rx: expect.any(Number), tx: expect.any(Number), interfaces: expect.any(Array) });
    expect(latest('disk')).toMatchObject({ read: expect.any(Number), write: expect.any(Number) });
    expect(latest('filesystem').mounts.length).toBeGreaterThan(0);
    expect(latest('filesystem').mounts[0]).toMatchObject({ mount: expect.any(String), size: expect.any(Number), used: expect.any(Number) });
    expect(latest('process')).toMatchObject({
      rss: expect.any(Number),
      heapUsed: expect.any(Number),
      lagP50: expect.any(Number),
      lagP99: expect.any(Number),
      loopBusy: expect.any(Number),
      uptime: expect.any(Number),
      cpu: expect.any(Number),
    });
    for (const event of stream.events()) if (event.data && typeof event.data.t === 'number') expect(event.data.t).toBeGreaterThan(1.6e12);
  });

  it('resumes after a disconnect with exactly the missed events: no gap, no repeat', async () => {
    const server = await start();
    const first = await openSse(`${server.url}api/events`);
    await first.until((frames) => liveCount(frames, 'cpu') >= 2);
    first.close();
    const lastId = first.frames.filter((f) => f.id).at(-1)?.id as string;
    await waitFor(() => server.monitor.hub.lastSeq >= seqOf(lastId) + 4);

    const missedUpTo = server.monitor.hub.lastSeq;
    const second = await openSse(`${server.url}api/events`, { 'Last-Event-ID': lastId });
    await second.until((frames) => frames.some((f) => seqOf(f.id) > missedUpTo + 3));
    second.close();

    const hello = JSON.parse(eventsNamed(second.frames, 'hello')[0]?.data ?? '') as HelloPayload;
    expect(hello.mode).toBe('resume');
    expect(eventsNamed(second.frames, 'backfill')).toHaveLength(0);
    const seqs = second.frames.filter((f) => f.id).map((f) => seqOf(f.id));
    const expected = Array.from({ length: seqs.length }, (_, i) => seqOf(lastId) + 1 + i);
    expect(seqs).toEqual(expected);
    expect(seqs[0]).toBe(seqOf(lastId) + 1);
    expect(missedUpTo - seqOf(lastId)).toBeGreaterThanOrEqual(4);
  });

  it('takes the resume point from ?lastEventId= when there is no header (re-created EventSource)', async () => {
    const server = await start();
    const first = await openSse(`${server.url}api/events`);
    await first.until((frames) => liveCount(frames, 'cpu') >= 1);
    first.close();
    const lastId = first.frames.filter((f) => f.id).at(-1)?.id as string;
    const second = await openSse(`${server.url}api/events?lastEventId=${encodeURIComponent(lastId)}`);
    await second.until((frames) => frames.some((f) => f.id));
    second.close();
    expect(JSON.parse(eventsNamed(second.frames, 'hello')[0]?.data ?? '').mode).toBe('resume');
    expect(seqOf(second.frames.find((f) => f.id)?.id)).toBe(seqOf(lastId) + 1);
  });

  it('replays with the eventsource client across a server-side cut, with consecutive ids', async () => {
    const server = await start();
    const source = new EventSource(`${server.url}api/events?topics=cpu,memory,disk,network,process`);
    const ids: number[] = [];
    const opened: number[] = [];
    source.addEventListener('open', () => opened.push(Date.now()));
    for (const name of ['cpu', 'memory', 'disk', 'network', 'process', 'health']) {
      source.addEventListener(name, (event) => ids.push(seqOf(event.lastEventId)));
    }
    try {
      await waitFor(() => ids.length >= 10);
      server.dropConnections();
      const cutAt = ids.length;
      await waitFor(() => opened.length >= 2 && ids.length >= cutAt + 15, 10_000);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] as number);
      expect(new Set(ids).size).toBe(ids.length);
      // Without filesystem (slow cadence, not subscribed) the seqs of these topics interleave with it; every
      // seq the hub issued for a subscribed topic between the first and last received must be present.
      const hub = server.monitor.hub;
      const wanted = new Set(['cpu', 'memory', 'disk', 'network', 'process', 'health', 'alert']);
      const issued = (hub.entriesAfter((ids[0] as number) - 1) ?? [])
        .filter((entry) => wanted.has(entry.event) && entry.seq <= (ids.at(-1) as number))
        .map((entry) => entry.seq);
      expect(ids).toEqual(issued);
    } finally {
      source.close();
    }
  });

  it('tells a client of another boot to reset, and sends a backfill flagged reset', async () => {
    const before = await start();
    const first = await openSse(`${before.url}api/events`);
    await first.until((frames) => liveCount(frames, 'cpu') >= 1);
    first.close();
    const oldId = first.frames.filter((f) => f.id).at(-1)?.id as string;
    await before.close();

    const after = await start();
    expect(after.monitor.hub.bootId).not.toBe(before.monitor.hub.bootId);
    const second = await openSse(`${after.url}api/events`, { 'Last-Event-ID': oldId });
    await second.until((frames) => eventsNamed(frames, 'backfill').length === 1);
    second.close();
    expect(JSON.parse(eventsNamed(second.frames, 'hello')[0]?.data ?? '').mode).toBe('reset');
    const backfill = JSON.parse(eventsNamed(second.frames, 'backfill')[0]?.data ?? '') as BackfillPayload;
    expect(backfill.reset).toBe(true);
    expect(eventsNamed(second.frames, 'backfill')[0]?.id?.startsWith(after.monitor.hub.bootId)).toBe(true);
  });

  it('resets a client whose id has fallen out of the history', async () => {
    const server = await start({ historyMs: 1000 });
    const first = await openSse(`${server.url}api/events`);
    await first.until((frames) => liveCount(frames, 'cpu') >= 1);
    first.close();
    const oldId = first.frames.filter((f) => f.id).at(0)?.id as string;
    await waitFor(() => server.monitor.hub.firstSeq > seqOf(oldId) + 1);
    const second = await openSse(`${server.url}api/events`, { 'Last-Event-ID': oldId });
    await second.until((frames) => eventsNamed(frames, 'backfill').length === 1);
    second.close();
    expect(JSON.parse(eventsNamed(second.frames, 'hello')[0]?.data ?? '').mode).toBe('reset');
  });

  it.each([
    ['garbage', 'not-an-id', 'fresh'],
    ['empty', '', 'fresh'],
    ['future seq of this boot', 'FUTURE', 'reset'],
    ['huge', 'x'.repeat(4000), 'fresh'],
    // Latin-1 is what an HTTP header carries; the query parameter takes any Unicode (next test).
    ['unicode', 'ünïcode-1', 'fresh'],
    ['negative', 'abcd--5', 'fresh'],
    ['of another boot, at a seq this boot has passed', 'zzzz0000-1', 'reset'],
  ])('still opens a stream for a Last-Event-ID that cannot be resumed (%s)', async (_name, raw, mode) => {
    const server = await start();
    await waitFor(() => server.monitor.hub.lastSeq >= 2);
    const value = raw === 'FUTURE' ? `${server.monitor.hub.bootId}-999999` : raw;
    const stream = await openSse(`${server.url}api/events`, { 'Last-Event-ID': value });
    await stream.until((frames) => eventsNamed(frames, 'backfill').length === 1 && liveCount(frames, 'cpu') >= 1);
    stream.close();
    expect(stream.status).toBe(200);
    expect(JSON.parse(eventsNamed(stream.frames, 'hello')[0]?.data ?? '').mode).toBe(mode);
    expect(JSON.parse(eventsNamed(stream.frames, 'backfill')[0]?.data ?? '').reset).toBe(mode === 'reset');
  });

  it('treats a ?lastEventId= of any Unicode as absent', async () => {
    const server = await start();
    const stream = await openSse(`${server.url}api/events?lastEventId=${encodeURIComponent('☃ü-1')}`);
    await stream.until((frames) => eventsNamed(frames, 'backfill').length === 1);
    stream.close();
    expect(JSON.parse(eventsNamed(stream.frames, 'hello')[0]?.data ?? '').mode).toBe('fresh');
  });

  it('narrows the stream with ?topics= and answers an unknown topic with a 400 naming the valid ones', async () => {
    const server = await start();
    await waitFor(() => logged(server, 'memory') >= 1);
    const stream = await openSse(`${server.url}api/events?topics=memory`);
    await stream.until((frames) => liveCount(frames, 'memory') >= 3);
    stream.close();
    const names = new Set(stream.events().map((e) => e.event));
    expect([...names].sort()).toEqual(['backfill', 'hello', 'memory']);
    const backfill = stream.events().find((e) => e.event === 'backfill')?.data as BackfillPayload;
    expect(Object.keys(backfill.series)).toEqual(['memory']);

    const bad = await fetch(`${server.url}api/events?topics=cpu,gpu`);
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string };
    expect(body.error).toContain('"gpu"');
    expect(body.error).toContain('cpu, memory, network, disk, filesystem, temperature, process, processes, containers, requests');
  });

  it('keeps to ?topics= on a resume: the missed events of those topics only', async () => {
    const server = await start();
    const first = await openSse(`${server.url}api/events?topics=memory`);
    await first.until((frames) => liveCount(frames, 'memory') >= 1);
    first.close();
    const lastId = eventsNamed(first.frames, 'memory').at(-1)?.id as string;
    await waitFor(() => server.monitor.hub.entriesAfter(seqOf(lastId))?.filter((e) => e.event === 'cpu').length === 3);
    const second = await openSse(`${server.url}api/events?topics=memory`, { 'Last-Event-ID': lastId });
    await second.until((frames) => liveCount(frames, 'memory') >= 3);
    second.close();
    expect(JSON.parse(eventsNamed(second.frames, 'hello')[0]?.data ?? '').mode).toBe('resume');
    // Health and alert events go to every stream; no other topic may be replayed.
    const names = new Set(second.events().map((e) => e.event));
    expect([...names].filter((name) => name !== 'health' && name !== 'alert').sort()).toEqual(['hello', 'memory']);
  });

  it('sends a heartbeat comment every --heartbeat', async () => {
    // Heartbeats every 300 ms, cpu samples every 100 ms: about three samples between two pings. A heartbeat
    // ten times slower or faster would put 30 or 0.3 there. Counting events, not reading a clock.
    const server = await start({ heartbeatMs: 300, intervalMs: 100 });
    const stream = await openSse(`${server.url}api/events?topics=cpu`);
    const pings = (frames: Frame[]) => frames.flatMap((f, i) => (f.kind === 'comment' && f.comment === 'ping' ? [i] : []));
    await stream.until((frames) => pings(frames).length >= 6);
    stream.close();
    const at = pings(stream.frames);
    const samplesBetween = at.slice(1).map((index, i) => eventsNamed(stream.frames.slice((at[i] as number) + 1, index), 'cpu').length);
    const mean = samplesBetween.reduce((sum, n) => sum + n, 0) / samplesBetween.length;
    expect(mean).toBeGreaterThanOrEqual(1.5);
    expect(mean).toBeLessThanOrEqual(6);
  });

  it('keeps streaming the other topics when a collector throws, and tells the client', async () => {
    const broken: Collector = {
      topic: 'temperature',
      source: 'test',
      cadenceMs: 100,
      sample() {
        throw new Error('sensor bus on fire');
      },
    };
    const server = await start({}, { extraCollectors: [broken] });
    const stream = await openSse(`${server.url}api/events`);
    // The failure is told in hello when it happened before the connect, else by a health event.
    const temperatureHealth = () =>
      stream
        .events()
        .filter((e) => e.event === 'hello' || e.event === 'health')
        .map((e) => e.data.collectors.find((c: { topic: string }) => c.topic === 'temperature'))
        .filter((h) => h && !h.ok)
        .at(-1);
    await stream.until((frames) => temperatureHealth() !== undefined && liveCount(frames, 'cpu') >= 3);
    stream.close();
    expect(temperatureHealth()).toMatchObject({ ok: false, error: 'sensor bus on fire', source: 'test' });
    const cpuHealth = stream
      .events()
      .find((e) => e.event === 'hello')
      ?.data.collectors.find((c: { topic: string }) => c.topic === 'cpu');
    expect(cpuHealth).toMatchObject({ ok: true });
    const snapshot = await (await fetch(`${server.url}api/snapshot`)).json();
    expect(snapshot.collectors.find((c: { topic: string }) => c.topic === 'temperature').ok).toBe(false);
  });

  it('drops a client that stops reading once its unsent bytes pass the bound', async () => {
    const bulky: Collector = {
      topic: 'temperature',
      source: 'test',
      cadenceMs: 10,
      sample: (t) => ({
        t,
        main: 40,
        max: 41,
        sensors: Array.from({ length: 400 }, (_, i) => ({ name: `sensor-with-a-long-name-${i}`, celsius: 40 })),
      }),
    };
    const server = await start({ maxClientBufferBytes: 65_536 }, { extraCollectors: [bulky] });
    const stream = await openSse(`${server.url}api/events?topics=temperature`);
    await stream.until((frames) => liveCount(frames, 'temperature') >= 1);
    // A second client that never reads: the kernel buffers fill, then Node's, then the server must let go.
    const { request } = await import('node:http');
    const stalled = request(`${server.url}api/events?topics=temperature`);
    stalled.on('response', (res) => res.pause());
    stalled.end();
    await waitFor(() => server.monitor.streams.count === 2, 5000);
    await waitFor(() => server.monitor.streams.count <= 1, 20_000);
    expect(server.monitor.hub.subscriberCount).toBe(server.monitor.streams.count);
    expect(stream.frames.length).toBeGreaterThan(10);
    stalled.destroy();
    stream.close();
  });

  it('releases everything a client held when it disconnects', async () => {
    const server = await start();
    const streams = await Promise.all(Array.from({ length: 40 }, () => openSse(`${server.url}api/events`)));
    await Promise.all(streams.map((s) => s.until((frames) => liveCount(frames, 'cpu') >= 1)));
    expect(server.monitor.streams.count).toBe(40);
    expect(server.monitor.hub.subscriberCount).toBe(40);
    for (const stream of streams) stream.close();
    await waitFor(() => server.monitor.hub.subscriberCount === 0);
    expect(server.monitor.streams.count).toBe(0);
  });
});

describe('JSON routes', () => {
  it('GET /api/snapshot returns the newest sample per topic', async () => {
    const server = await start();
    await waitFor(() => ['cpu', 'memory', 'network', 'disk', 'process'].every((topic) => server.monitor.hub.latest(topic as 'cpu')));
    const response = await fetch(`${server.url}api/snapshot`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.bootId).toBe(server.monitor.hub.bootId);
    for (const topic of ['cpu', 'memory', 'network', 'disk', 'process']) expect(body.samples[topic]?.t).toBeGreaterThan(0);
    expect(body.samples.cpu.t).toBe(server.monitor.hub.latest('cpu')?.data.t);
  });

  it('GET /api/history returns columns since a time, compressed on request, and rejects bad input', async () => {
    const server = await start();
    await waitFor(() => logged(server, 'cpu') >= 5 && logged(server, 'memory') >= 5);
    const response = await fetch(`${server.url}api/history?topics=cpu,memory&since=10m`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const body = await response.json();
    expect(Object.keys(body.series).sort()).toEqual(['cpu', 'memory']);
    expect(body.series.cpu.t.length).toBeGreaterThanOrEqual(5);
    expect(body.series.cpu.total.length).toBe(body.series.cpu.t.length);

    const now = Date.now();
    const recent = await (await fetch(`${server.url}api/history?topics=cpu&since=${now - 250}`)).json();
    expect(recent.series.cpu.t.every((t: number) => t >= now - 250)).toBe(true);

    expect((await fetch(`${server.url}api/history?since=yesterday`)).status).toBe(400);
    expect((await fetch(`${server.url}api/history?topics=nope`)).status).toBe(400);
  });

  it('GET /healthz reports status, boot id and stream count', async () => {
    const server = await start();
    const body = await (await fetch(`${server.url}healthz`)).json();
    expect(body).toMatchObject({ status: 'ok', bootId: server.monitor.hub.bootId, streams: 0 });
  });

  it('answers unknown paths with 404 JSON and no stack trace', async () => {
    const server = await start();
    const response = await fetch(`${server.url}api/nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toMatch(/at .*\.ts/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
