import { describe, expect, it } from 'vitest';
import { type AgentInfo, DATA_FIELD, EVENT_FIELD, parseStreamId, type StreamEntry } from '../../server/fleet/keys.js';
import { HostMirror } from '../../server/fleet/mirror.js';
import type { SseSink } from '../../server/stream/sink.js';

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

/** A stand-in for an open SSE connection: records whether the mirror ended it. */
function fakeSink(): SseSink & { ended: boolean } {
  let onClose = () => {};
  const sink = {
    ended: false,
    begin: () => true,
    write: () => true,
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
