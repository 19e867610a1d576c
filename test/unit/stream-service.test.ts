import { describe, expect, it } from 'vitest';
import type {
  AlertPayload,
  BackfillPayload,
  CpuSample,
  HelloMode,
  HelloPayload,
  MemorySample,
  TemperatureSample,
  Topic,
} from '../../server/protocol.js';
import { Hub } from '../../server/stream/hub.js';
import { StreamService, seriesSince } from '../../server/stream/service.js';
import { WebStreamSink } from '../../server/stream/sink.js';
import { encodeEvent } from '../../server/stream/sse.js';
import { type Frame, parseFrames } from '../helpers/sse-reader.js';

const NOW = 1_700_000_000_000;
const BOOT = 'boot2';
const cpu = (t: number): CpuSample => ({ t, total: 5, user: 3, system: 2, iowait: 0, cores: [5], load: [0, 0, 0] });
const memory = (t: number): MemorySample => ({ t, total: 8, used: 4, available: 4, cached: 1, buffers: 0, swapTotal: 0, swapUsed: 0 });
const alert = (t: number): AlertPayload => ({
  t,
  rule: 'cpu-busy',
  metric: 'cpu',
  state: 'firing',
  severity: 'critical',
  value: 95,
  threshold: 90,
  since: t,
  message: 'CPU 95 %',
});
/** Fan-out and the reads of the test's client happen once the current turn of the event loop is over. */
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

function hello(topics: Topic[], mode: HelloMode): HelloPayload {
  return {
    t: NOW,
    bootId: BOOT,
    version: 'test',
    host: { hostname: 'h', os: 'os', platform: 'linux', release: '6', arch: 'x64', cpuModel: 'cpu', cores: 1, memTotal: 1, uptime: 1 },
    interval: 1000,
    historyMs: 3_600_000,
    backfillMs: 60_000,
    heartbeatMs: 15_000,
    retryMs: 2000,
    topics,
    mode,
    collectors: [],
    thresholds: {},
  };
}

function setUp(options: { backfillMs?: number; alerts?: AlertPayload[]; capacity?: number } = {}) {
  const hub = new Hub({ capacity: options.capacity ?? 1000, maxAgeMs: 1e12, bootId: BOOT });
  let backfillsBuilt = 0;
  const service = new StreamService({
    hub,
    retryMs: 2000,
    backfillMs: options.backfillMs ?? 60_000,
    hello,
    // Asked once per backfill encoded: it counts the backfills built.
    activeAlerts: () => {
      backfillsBuilt++;
      return options.alerts ?? [];
    },
    now: () => NOW,
  });
  return { hub, service, backfillsBuilt: () => backfillsBuilt };
}

/** A client on a real WebStreamSink: reads everything the service writes, as frames. */
function connect(service: StreamService, topics: Topic[], lastEventId: string | null = null, maxBufferedBytes = 1 << 20) {
  const sink = new WebStreamSink(maxBufferedBytes);
  let text = '';
  const reader = sink.stream.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  })().catch(() => {});
  service.start(sink, { topics, lastEventId });
  const events = () => parseFrames(text).filter((frame): frame is Frame & { event: string } => frame.kind === 'event');
  return {
    sink,
    frames: () => parseFrames(text),
    events,
    hello: () => JSON.parse(events().find((e) => e.event === 'hello')?.data ?? 'null') as HelloPayload,
    backfill: () => {
      const frame = events().find((e) => e.event === 'backfill');
      return frame ? { id: frame.id, data: JSON.parse(frame.data ?? 'null') as BackfillPayload } : null;
    },
    /** Events after the handshake, or the replayed ones: everything with an id but the backfill. */
    logged: () => events().filter((e) => e.event !== 'backfill' && e.event !== 'hello'),
    close: () => reader.cancel(),
  };
}

describe('stream handshake', () => {
  it('opens with retry, then hello naming the topics asked for, then a backfill; live events follow once', async () => {
    const { hub, service } = setUp();
    hub.publish('cpu', cpu(NOW - 2000));
    hub.publish('memory', memory(NOW - 2000));
    const client = connect(service, ['cpu']);
    hub.publish('cpu', cpu(NOW - 1000));
    await endOfTurn();
    const [retry, first, second, third] = client.frames();
    expect(retry).toEqual({ kind: 'retry', retry: 2000 });
    expect(first?.event).toBe('hello');
    expect(client.hello()).toMatchObject({ mode: 'fresh', topics: ['cpu'] });
    expect(second?.event).toBe('backfill');
    expect(second?.id).toBe(`${BOOT}-2`);
    expect(client.backfill()?.data).toMatchObject({ reset: false, lastSeq: 2 });
    expect(third).toMatchObject({ event: 'cpu', id: `${BOOT}-3` });
    expect(client.frames()).toHaveLength(4);
  });

  it('resets a client whose id names another boot, even where this boot has reached that seq', async () => {
    const { hub, service } = setUp();
    for (let i = 0; i < 5; i++) hub.publish('cpu', cpu(NOW - 5000 + i * 1000));
    // The old server had reached seq 2; this one is at 5: a boot-blind check would replay 3..5 as if missed.
    const client = connect(service, ['cpu'], 'boot1-2');
    await endOfTurn();
    expect(client.hello().mode).toBe('reset');
    expect(client.backfill()?.data.reset).toBe(true);
    expect(client.backfill()?.data.series.cpu?.t).toHaveLength(5);
    expect(client.logged()).toEqual([]);
  });

  it('resumes an id of this boot with exactly the events after it, and no backfill', async () => {
    const { hub, service } = setUp();
    for (let i = 0; i < 5; i++) hub.publish('cpu', cpu(NOW - 5000 + i * 1000));
    const client = connect(service, ['cpu'], `${BOOT}-2`);
    hub.publish('cpu', cpu(NOW));
    await endOfTurn();
    expect(client.hello().mode).toBe('resume');
    expect(client.backfill()).toBeNull();
    expect(client.logged().map((e) => e.id)).toEqual([`${BOOT}-3`, `${BOOT}-4`, `${BOOT}-5`, `${BOOT}-6`]);
  });

  it('resumes with the topics the client asked for only, plus health and alerts', async () => {
    const { hub, service } = setUp();
    hub.publish('cpu', cpu(NOW - 3000));
    hub.publish('memory', memory(NOW - 3000));
    hub.publish('cpu', cpu(NOW - 2000));
    hub.publish('health', { t: NOW - 2000, collectors: [] });
    hub.publish('memory', memory(NOW - 2000));
    hub.publish('alert', alert(NOW - 1000));
    const client = connect(service, ['memory'], `${BOOT}-1`);
    await endOfTurn();
    expect(client.hello()).toMatchObject({ mode: 'resume', topics: ['memory'] });
    expect(client.logged().map((e) => `${e.id} ${e.event}`)).toEqual([
      `${BOOT}-2 memory`,
      `${BOOT}-4 health`,
      `${BOOT}-5 memory`,
      `${BOOT}-6 alert`,
    ]);
  });

  it('sends live health and alert events to a client of any topic, and no other topic', async () => {
    const { hub, service } = setUp();
    const client = connect(service, ['cpu']);
    hub.publish('memory', memory(NOW));
    hub.publish('health', { t: NOW, collectors: [] });
    hub.publish('alert', alert(NOW));
    hub.publish('cpu', cpu(NOW));
    await endOfTurn();
    expect(client.logged().map((e) => e.event)).toEqual(['health', 'alert', 'cpu']);
  });

  it('gives streams open side by side each its own topics, the same to those that named them in another order', async () => {
    const { hub, service } = setUp();
    const cpuOnly = connect(service, ['cpu']);
    const both = connect(service, ['cpu', 'memory']);
    const bothReversed = connect(service, ['memory', 'cpu']);
    const memoryOnly = connect(service, ['memory']);
    hub.publish('memory', memory(NOW));
    hub.publish('cpu', cpu(NOW));
    await endOfTurn();
    expect(cpuOnly.logged().map((e) => e.event)).toEqual(['cpu']);
    expect(both.logged().map((e) => e.event)).toEqual(['memory', 'cpu']);
    expect(bothReversed.logged().map((e) => e.event)).toEqual(['memory', 'cpu']);
    expect(memoryOnly.logged().map((e) => e.event)).toEqual(['memory']);
    expect(bothReversed.hello().topics).toEqual(['memory', 'cpu']);
  });

  it.each([
    ['ahead of this boot', `${BOOT}-99`],
    ['fallen out of the log', `${BOOT}-1`],
  ])('resets a client whose id is %s', async (_name, id) => {
    const { hub, service } = setUp({ capacity: 3 });
    for (let i = 0; i < 6; i++) hub.publish('cpu', cpu(NOW - 6000 + i * 1000));
    const client = connect(service, ['cpu'], id);
    await endOfTurn();
    expect(client.hello().mode).toBe('reset');
    expect(client.backfill()?.data).toMatchObject({ reset: true, lastSeq: 6 });
  });

  it('treats a malformed id as none: a fresh stream', async () => {
    const { hub, service } = setUp();
    hub.publish('cpu', cpu(NOW));
    const client = connect(service, ['cpu'], 'ünïcode-1');
    await endOfTurn();
    expect(client.hello().mode).toBe('fresh');
    expect(client.backfill()?.data.reset).toBe(false);
  });

  it('backfills the last --backfill of history, not all of it: samples at or after now - backfill', async () => {
    const { hub, service } = setUp({ backfillMs: 60_000 });
    for (let t = NOW - 600_000; t <= NOW; t += 10_000) hub.publish('cpu', cpu(t));
    const client = connect(service, ['cpu']);
    await endOfTurn();
    const times = client.backfill()?.data.series.cpu?.t;
    expect(times).toEqual([NOW - 60_000, NOW - 50_000, NOW - 40_000, NOW - 30_000, NOW - 20_000, NOW - 10_000, NOW]);
  });

  it('puts the alerts firing now in every backfill', async () => {
    const firing = alert(NOW - 5000);
    const { hub, service } = setUp({ alerts: [firing] });
    hub.publish('cpu', cpu(NOW));
    const client = connect(service, ['cpu']);
    await endOfTurn();
    expect(client.backfill()?.data.alerts).toEqual([firing]);
  });

  it('encodes one backfill per topics, reset flag and log position, and a new one once the log moves', async () => {
    const { hub, service, backfillsBuilt } = setUp();
    hub.publish('cpu', cpu(NOW - 2000));
    hub.publish('memory', memory(NOW - 2000));
    const a = connect(service, ['cpu']);
    const b = connect(service, ['cpu']);
    expect(backfillsBuilt()).toBe(1);
    const memoryOnly = connect(service, ['memory']);
    const reset = connect(service, ['cpu'], 'boot1-1');
    expect(backfillsBuilt()).toBe(3);
    await endOfTurn();
    expect(b.backfill()).toEqual(a.backfill());
    expect(Object.keys(memoryOnly.backfill()?.data.series ?? {})).toEqual(['memory']);
    expect(reset.backfill()?.data.reset).toBe(true);
    expect(a.backfill()?.data.reset).toBe(false);

    hub.publish('cpu', cpu(NOW - 1000));
    const later = connect(service, ['cpu']);
    expect(backfillsBuilt()).toBe(4);
    await endOfTurn();
    expect(later.backfill()?.data.lastSeq).toBe(3);
    expect(later.backfill()?.data.series.cpu?.t).toEqual([NOW - 2000, NOW - 1000]);
    expect(later.backfill()?.id).toBe(`${BOOT}-3`);
  });

  it('answers a resume whose replay would pass 16 MiB with a reset, and replays one of exactly 16 MiB', async () => {
    const { hub, service } = setUp();
    hub.publish('cpu', cpu(NOW - 20_000));
    const target = 16 * 1024 * 1024;
    const bulky = (t: number, nameLength: number): TemperatureSample => ({
      t,
      main: 40,
      max: 40,
      sensors: [{ name: 'x'.repeat(nameLength), celsius: 40 }],
    });
    // Fifteen events of about 1 MiB, then one sized so that the replay after seq 1 is exactly 16 MiB.
    for (let i = 0; i < 15; i++) hub.publish('temperature', bulky(NOW - 19_000 + i, 1_000_000));
    const sent = (hub.entriesAfter(1) ?? []).reduce((sum, entry) => sum + entry.bytes.length, 0);
    const probe = encodeEvent('temperature', bulky(NOW - 1000, 0), `${BOOT}-17`).length;
    hub.publish('temperature', bulky(NOW - 1000, target - sent - probe));
    expect((hub.entriesAfter(1) ?? []).reduce((sum, entry) => sum + entry.bytes.length, 0)).toBe(target);

    const exactly = connect(service, ['temperature'], `${BOOT}-1`, 64 * 1024 * 1024);
    await endOfTurn();
    expect(exactly.hello().mode).toBe('resume');
    expect(exactly.logged()).toHaveLength(16);
    exactly.close();

    hub.publish('cpu', cpu(NOW));
    const over = connect(service, ['temperature'], `${BOOT}-1`, 64 * 1024 * 1024);
    await endOfTurn();
    expect(over.hello().mode).toBe('reset');
    expect(over.backfill()?.data.reset).toBe(true);
    over.close();
  });
});

describe('open streams', () => {
  it('counts the open streams and forgets one when its client goes away', async () => {
    const { hub, service } = setUp();
    const a = connect(service, ['cpu']);
    connect(service, ['cpu']);
    expect(service.count).toBe(2);
    expect(hub.subscriberCount).toBe(2);
    await a.close();
    expect(service.count).toBe(1);
    expect(hub.subscriberCount).toBe(1);
  });

  it('does not subscribe a sink that closed before its handshake', () => {
    const { hub, service } = setUp();
    const sink = new WebStreamSink(1 << 20);
    sink.end();
    service.start(sink, { topics: ['cpu'], lastEventId: null });
    expect(service.count).toBe(0);
    expect(hub.subscriberCount).toBe(0);
  });

  it('drops a client that falls behind by more than its bound, and stops writing to it', async () => {
    const { hub, service } = setUp();
    const sink = new WebStreamSink(4096);
    service.start(sink, { topics: ['cpu'], lastEventId: null }); // nobody reads this one
    const closed = new Promise<void>((resolve) => sink.onClose(resolve));
    for (let i = 0; i < 100; i++) {
      hub.publish('cpu', cpu(NOW + i));
      await endOfTurn();
    }
    await closed;
    expect(hub.subscriberCount).toBe(0);
    expect(service.count).toBe(0);
  });

  it('ends every open stream on shutdown', async () => {
    const { hub, service } = setUp();
    const sinks = [connect(service, ['cpu']).sink, connect(service, ['memory']).sink];
    const closed = sinks.map((sink) => new Promise<void>((resolve) => sink.onClose(resolve)));
    service.endAll();
    await Promise.all(closed);
    expect(service.count).toBe(0);
    expect(hub.subscriberCount).toBe(0);
  });
});

describe('history columns', () => {
  it('keep the process list, the route table and the interface list on the newest row only', () => {
    const hub = new Hub({ capacity: 100, maxAgeMs: 1e12, bootId: BOOT });
    const latency = { p50: 1, p90: 1, p99: 1, max: 1 };
    for (let t = 1; t <= 2; t++) {
      hub.publish('processes', { t, count: 1, top: [{ pid: 1, name: 'init', user: 'root', container: null, cpu: t, rss: 1 }] });
      hub.publish('disk', { t, read: t, write: 0 });
      hub.publish('requests', {
        t,
        source: 'self',
        count: t,
        rate: t,
        inFlight: 0,
        status: { '1xx': 0, '2xx': t, '3xx': 0, '4xx': 0, '5xx': 0, aborted: 0 },
        latency,
        bytes: 0,
        window: { ms: 60_000, count: t, errors: 0, latency },
        routes: [{ route: 'GET /', count: t, errors: 0, latency }],
      });
    }
    const series = seriesSince(hub, ['processes', 'disk', 'requests'], 0);
    expect(series.processes?.top).toEqual([[], [{ pid: 1, name: 'init', user: 'root', container: null, cpu: 2, rss: 1 }]]);
    expect(series.requests?.routes).toEqual([[], [{ route: 'GET /', count: 2, errors: 0, latency }]]);
    expect(series.requests?.count).toEqual([1, 2]);
    expect(series.processes?.count).toEqual([1, 1]);
    expect(series.disk).toEqual({ t: [1, 2], read: [1, 2], write: [0, 0] });
  });

  it('hold only the topics asked for, from the given time on', () => {
    const hub = new Hub({ capacity: 100, maxAgeMs: 1e12, bootId: BOOT });
    for (let t = 1; t <= 3; t++) {
      hub.publish('cpu', cpu(t));
      hub.publish('memory', memory(t));
    }
    const series = seriesSince(hub, ['memory'], 2);
    expect(Object.keys(series)).toEqual(['memory']);
    expect(series.memory?.t).toEqual([2, 3]);
    expect(seriesSince(hub, ['cpu'], 4)).toEqual({});
  });
});
