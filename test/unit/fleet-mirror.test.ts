import fc from 'fast-check';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { type AgentInfo, DATA_FIELD, EVENT_FIELD, parseStreamId, type StreamEntry } from '../../server/fleet/keys.js';
import { HostMirror } from '../../server/fleet/mirror.js';
import { PAYLOAD_SCHEMAS } from '../../server/fleet/payloads.js';
import { check } from '../../server/fleet/schema.js';
import { PrometheusExport } from '../../server/http/metrics.js';
import type { Boards } from '../../server/stream/board.js';
import { StreamLimits } from '../../server/stream/limits.js';
import type { SseSink } from '../../server/stream/sink.js';
import { fuzzEntry } from '../helpers/payloads.js';
import { parseFrames } from '../helpers/sse-reader.js';

const info = (bootId: string, overrides: Partial<AgentInfo> = {}): AgentInfo => ({
  name: 'web-1',
  bootId,
  version: '1.0.0',
  host: {
    hostname: 'web-1',
    os: 'Debian',
    platform: 'linux',
    release: '6',
    arch: 'x64',
    cpuModel: 'cpu',
    cores: 2,
    memTotal: 1,
    uptime: 1,
  },
  interval: 1000,
  historyMs: 3_600_000,
  backfillMs: 300_000,
  heartbeatMs: 15_000,
  retryMs: 2000,
  topics: ['cpu'],
  thresholds: {},
  collectors: [{ topic: 'cpu', ok: true, source: 'procfs', cadenceMs: 1000, failures: 0, lastOk: 1 }],
  alerts: [],
  capacity: 1000,
  ...overrides,
});

const cpu = (id: string, t: number): StreamEntry => [
  id,
  [EVENT_FIELD, 'cpu', DATA_FIELD, JSON.stringify({ t, total: 5, user: 3, system: 2, iowait: 0, cores: [5], load: [0, 0, 0] })],
];

/** A stand-in for an open SSE connection: records what it was sent and whether the mirror ended it. */
function fakeSink(): SseSink & { ended: boolean; text: () => string } {
  let onClose = () => {};
  const sent: Buffer[] = [];
  const sink = {
    ended: false,
    text: () => Buffer.concat(sent).toString(),
    begin: (bytes: Buffer) => sent.push(bytes) > 0,
    write: (bytes: Buffer) => sent.push(bytes) > 0,
    end() {
      sink.ended = true;
      onClose();
    },
    onClose(listener: () => void) {
      onClose = listener;
    },
  };
  return sink;
}

describe('HostMirror: a host stream replayed as an event log', () => {
  it('uses the stream ids as event ids, so a client can resume on any hub', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.ingest([cpu('1700000000000-41', 1), cpu('1700000000000-42', 2), cpu('1700000000000-43', 3)]);
    expect(mirror.hub.bootId).toBe('1700000000000');
    expect([mirror.hub.firstSeq, mirror.hub.lastSeq]).toEqual([41, 43]);
    expect(mirror.hub.entriesAfter(41)?.map((entry) => entry.seq)).toEqual([42, 43]);
    expect(mirror.hub.latest('cpu')?.bytes.toString()).toContain('id: 1700000000000-43\n');
    expect(mirror.lastSeen).toBe(3);
    expect(mirror.lastId).toBe('1700000000000-43');
  });

  it('skips entries it already holds', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.ingest([cpu('1700000000000-1', 1), cpu('1700000000000-2', 2)]);
    mirror.ingest([cpu('1700000000000-2', 2), cpu('1700000000000-3', 3)]);
    expect(mirror.hub.length).toBe(3);
  });

  it('starts a new log on a new agent boot or a gap in the ids, and ends the streams of the old one', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.ingest([cpu('1700000000000-1', 1)]);
    const sink = fakeSink();
    mirror.streams.start(sink, { topics: ['cpu'], lastEventId: null });
    expect(mirror.streams.count).toBe(1);

    mirror.ingest([cpu('1700000000000-5', 5)]);
    expect(sink.ended).toBe(true);
    expect([mirror.hub.firstSeq, mirror.hub.lastSeq]).toEqual([5, 5]);

    mirror.ingest([cpu('1700000099000-1', 9)]);
    expect(mirror.hub.bootId).toBe('1700000099000');
    expect(mirror.hub.length).toBe(1);
  });

  it('tracks health and alerts from the events, and skips malformed entries', () => {
    const lines: string[] = [];
    const mirror = new HostMirror('web-1', info('1700000000000'), (line) => lines.push(line));
    const alert = {
      t: 2,
      rule: 'cpu-busy',
      metric: 'cpu',
      state: 'firing',
      severity: 'critical',
      value: 95,
      threshold: 90,
      since: 1,
      message: 'm',
    };
    mirror.ingest([
      ['1700000000000-1', [EVENT_FIELD, 'alert', DATA_FIELD, JSON.stringify(alert)]],
      ['1700000000000-2', [EVENT_FIELD, 'cpu', DATA_FIELD, '{not json']],
      ['1700000000000-3', [EVENT_FIELD, 'gpu', DATA_FIELD, '{"t":1}']],
      ['garbage', [EVENT_FIELD, 'cpu', DATA_FIELD, '{"t":1}']],
      [
        '1700000000000-4',
        [
          EVENT_FIELD,
          'health',
          DATA_FIELD,
          JSON.stringify({ t: 3, collectors: [{ topic: 'cpu', ok: false, source: 'procfs', cadenceMs: 1000, failures: 2, lastOk: 1 }] }),
        ],
      ],
    ]);
    expect(mirror.activeAlerts().map((active) => active.rule)).toEqual(['cpu-busy']);
    expect(mirror.health()[0]?.ok).toBe(false);
    expect(lines).toHaveLength(1);
    mirror.ingest([['1700000000000-5', [EVENT_FIELD, 'alert', DATA_FIELD, JSON.stringify({ ...alert, t: 4, state: 'resolved' })]]]);
    expect(mirror.activeAlerts()).toEqual([]);
  });

  it('reads agent stream ids and nothing else', () => {
    expect(parseStreamId('1700000000000-7')).toEqual({ boot: '1700000000000', seq: 7 });
    expect(parseStreamId('1700000000000-')).toBeNull();
    expect(parseStreamId('abc-1')).toBeNull();
  });
});

/** What a fleet hub serves the mirror through: the real Prometheus export over it. */
function exportOf(mirror: HostMirror): PrometheusExport {
  const boards: Boards = {
    board: () => ({ ok: true, board: mirror }),
    all: () => [mirror],
    streamLimits: new StreamLimits(10, 10),
    maxClientBufferBytes: 1 << 20,
    status: () => ({}),
  };
  return new PrometheusExport(boards, null);
}

const BOOT = '1700000000000';
let fuzzInputs = 0;
afterAll(() => console.log(`mirror fuzz: ${fuzzInputs} entries in all`));

describe('HostMirror: entries that do not fit the protocol', () => {
  it('skips and counts a cpu entry with "cores": null, so /metrics keeps answering (issue 14)', async () => {
    const lines: string[] = [];
    const mirror = new HostMirror('x', info(BOOT), (line) => lines.push(line));
    mirror.ingest([cpu(`${BOOT}-1`, 1), ['3000-1', [EVENT_FIELD, 'cpu', DATA_FIELD, '{"t":1,"cores":null}']]]);
    expect(mirror.skipped).toBe(1);
    expect(mirror.lastSkipped).toBe('3000-1 (cpu total: expected a value (it is missing))');
    expect(lines).toEqual([
      'host x: skipping stream entry 3000-1 (cpu total: expected a value (it is missing)); /healthz counts the others',
    ]);
    expect(mirror.hub.latest('cpu')?.data.cores).toEqual([5]);
    const families = parsePrometheus(await exportOf(mirror).text());
    expect(families.find((family) => family.name === 'pulseboard_cpu_core_usage_ratio')?.metrics).toHaveLength(1);
  });

  it('skips a health entry with "collectors": null instead of throwing out of ingest (issue 14)', () => {
    const mirror = new HostMirror('y', info(BOOT), () => {});
    expect(() =>
      mirror.ingest([
        cpu(`${BOOT}-1`, 1),
        [`${BOOT}-2`, [EVENT_FIELD, 'health', DATA_FIELD, '{"t":2,"collectors":null}']],
        cpu(`${BOOT}-3`, 3),
      ]),
    ).not.toThrow();
    expect(mirror.skipped).toBe(1);
    expect(mirror.lastId).toBe(`${BOOT}-3`);
    expect(mirror.health()[0]?.ok).toBe(true);
  });

  it('never throws on any mix of valid and invalid entries; skips exactly the invalid ones; serves only what fits (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzEntry, { minLength: 1, maxLength: 25 }), fc.boolean(), async (items, badIds) => {
        fuzzInputs += items.length;
        const mirror = new HostMirror('fz', info(BOOT), () => {});
        // Redis allows any id of two numbers; ids past 16 digits of boot are no agent's and are skipped too.
        const idOf = (i: number) => (badIds && i % 5 === 4 ? `99999999999999999-${i + 1}` : `${BOOT}-${i + 1}`);
        const entries: StreamEntry[] = items.map((item, i) => [idOf(i), item.fields]);
        mirror.ingest(entries);
        const fits = (item: (typeof items)[number], i: number) => item.valid && !idOf(i).startsWith('9999');
        expect(mirror.skipped).toBe(items.filter((item, i) => !fits(item, i)).length);

        const lastIndex = items.length - 1;
        const last = items[lastIndex];
        if (last && fits(last, lastIndex)) {
          expect(mirror.hub.lastSeq).toBe(lastIndex + 1);
          const [newest] = mirror.hub.entriesAfter(mirror.hub.lastSeq - 1) ?? [];
          expect(newest?.data).toEqual(JSON.parse(last.fields[3] as string));
        }
        for (const entry of mirror.hub.entriesSince(-Infinity, () => true)) {
          expect(check(PAYLOAD_SCHEMAS[entry.event] as (value: unknown, path: string) => unknown, entry.data).ok).toBe(true);
        }
        parsePrometheus(await exportOf(mirror).text());

        const sink = fakeSink();
        mirror.streams.start(sink, { topics: mirror.topics, lastEventId: null });
        const frames = parseFrames(sink.text());
        expect(frames[0]).toEqual({ kind: 'retry', retry: 2000 });
        expect(frames.slice(1).map((frame) => frame.event)).toEqual(['hello', 'backfill']);
        for (const frame of frames.slice(1)) expect(() => JSON.parse(frame.data ?? '')).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });
});
