import { describe, expect, it } from 'vitest';
import { type AgentInfo, DATA_FIELD, EVENT_FIELD, type StreamEntry } from '../../server/fleet/keys.js';
import { HostMirror } from '../../server/fleet/mirror.js';
import type { AlertPayload, CollectorHealth } from '../../server/protocol.js';

const health = (topic: 'cpu' | 'memory', ok: boolean): CollectorHealth => ({
  topic,
  ok,
  source: 'procfs',
  cadenceMs: 1000,
  failures: ok ? 0 : 1,
  lastOk: 1,
});
const firing = (rule: string, t = 1): AlertPayload => ({
  t,
  rule,
  metric: 'cpu',
  state: 'firing',
  severity: 'critical',
  value: 95,
  threshold: 90,
  since: t,
  message: 'm',
});

const info = (bootId: string, overrides: Partial<AgentInfo> = {}): AgentInfo => ({
  name: 'web-1',
  bootId,
  version: '1.2.3',
  host: {
    hostname: 'web-1.example',
    os: 'Debian',
    platform: 'linux',
    release: '6',
    arch: 'x64',
    cpuModel: 'cpu',
    cores: 2,
    memTotal: 1,
    uptime: 1,
  },
  interval: 500,
  historyMs: 3_600_000,
  backfillMs: 300_000,
  heartbeatMs: 15_000,
  retryMs: 2000,
  topics: ['cpu', 'memory'],
  thresholds: {},
  collectors: [health('cpu', true), health('memory', true)],
  alerts: [],
  capacity: 1000,
  ...overrides,
});

const cpu = (id: string, t: number): StreamEntry => [
  id,
  [EVENT_FIELD, 'cpu', DATA_FIELD, JSON.stringify({ t, total: 5, user: 3, system: 2, iowait: 0, cores: [5], load: [0, 0, 0] })],
];
const alertEntry = (id: string, change: AlertPayload): StreamEntry => [id, [EVENT_FIELD, 'alert', DATA_FIELD, JSON.stringify(change)]];

describe('host mirror edges', () => {
  it('answers what a board is asked from the agent info', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    expect(mirror.version).toBe('1.2.3');
    expect(mirror.topics).toEqual(['cpu', 'memory']);
    expect(mirror.host.hostname).toBe('web-1.example');
    expect(mirror.interval).toBe(500);
    expect(mirror.lastSeen).toBeNull();
    expect(mirror.lastId).toBe('0-0');
  });

  it('says hello with its log boot, the topics asked for and only their collectors, without the agent-only fields', () => {
    const before = Date.now();
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    const hello = mirror.hello(['memory'], 'reset');
    expect(hello).toMatchObject({ bootId: '1700000000000', topics: ['memory'], mode: 'reset', version: '1.2.3', interval: 500 });
    expect(hello.collectors).toEqual([health('memory', true)]);
    expect(hello.t).toBeGreaterThanOrEqual(before);
    expect(hello).not.toHaveProperty('name');
    expect(hello).not.toHaveProperty('alerts');
    expect(hello).not.toHaveProperty('capacity');
  });

  it('holds the agent history with a tenth to spare for MAXLEN ~, and at least 100 events', () => {
    expect(new HostMirror('a', info('1', { capacity: 1000 }), () => {}).hub.capacity).toBe(1100);
    expect(new HostMirror('a', info('1', { capacity: 10 }), () => {}).hub.capacity).toBe(100);
    expect(new HostMirror('a', info('1', { capacity: 1001 }), () => {}).hub.capacity).toBe(1102);
  });

  it('keeps events for the agent history length, by sample time', () => {
    const mirror = new HostMirror('web-1', info('1700000000000', { historyMs: 10_000 }), () => {});
    mirror.ingest([cpu('1700000000000-1', 1000), cpu('1700000000000-2', 5000), cpu('1700000000000-3', 12_000)]);
    expect(mirror.hub.entriesSince(0, () => true).map((entry) => entry.t)).toEqual([5000, 12_000]);
  });

  it('takes a new boot info as its state while it holds nothing, and only then', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.updateInfo(info('1700000001000', { collectors: [health('cpu', false)], alerts: [firing('a')] }));
    expect(mirror.health()).toEqual([health('cpu', false)]);
    expect(mirror.activeAlerts().map((a) => a.rule)).toEqual(['a']);
    mirror.ingest([cpu('1700000001000-1', 1)]);
    mirror.updateInfo(info('1700000002000', { collectors: [health('memory', true)], alerts: [] }));
    expect(mirror.health()).toEqual([health('cpu', false)]); // its events tell the state from now on
    expect(mirror.version).toBe('1.2.3');
  });

  it('a restarted agent ends what it reported before; a gap in one boot keeps it', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.ingest([alertEntry('1700000000000-1', firing('a')), cpu('1700000000000-2', 2)]);
    mirror.ingest([cpu('1700000000000-9', 9)]); // a gap: same boot
    expect(mirror.activeAlerts().map((a) => a.rule)).toEqual(['a']);
    mirror.updateInfo(info('1700000000000', { alerts: [firing('from-info')] }));
    mirror.ingest([cpu('1700000099000-1', 10)]); // a new boot
    expect(mirror.activeAlerts().map((a) => a.rule)).toEqual(['from-info']);
    expect(mirror.hub.bootId).toBe('1700000099000');
    expect([mirror.hub.firstSeq, mirror.hub.lastSeq]).toEqual([1, 1]);
  });

  it('remembers the newest sample time, whatever the order of arrival', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.ingest([cpu('1700000000000-1', 500), cpu('1700000000000-2', 300)]);
    expect(mirror.lastSeen).toBe(500);
  });

  it('logs the first malformed entry only, and moves past each', () => {
    const lines: string[] = [];
    const mirror = new HostMirror('web-1', info('1700000000000'), (line) => lines.push(line));
    mirror.ingest([
      ['1700000000000-1', [EVENT_FIELD, 'cpu']],
      ['1700000000000-2', [EVENT_FIELD, 'cpu', DATA_FIELD, '[1]']],
      ['1700000000000-3', [EVENT_FIELD, 'cpu', DATA_FIELD, '{"t":"soon"}']],
      ['1700000000000-4', [EVENT_FIELD, 'hello', DATA_FIELD, '{"t":1}']],
    ]);
    expect(lines).toEqual(['host web-1: skipping stream entry 1700000000000-1 (no "e" and "d" fields); /healthz counts the others']);
    expect(mirror.lastId).toBe('1700000000000-4');
    expect(mirror.hub.length).toBe(0);
  });
});

describe('host mirror, boots', () => {
  it('keeps its state when the info is rewritten in the same boot, even while it holds nothing', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.updateInfo(info('1700000000000', { alerts: [firing('from-info')] }));
    expect(mirror.activeAlerts()).toEqual([]); // in one boot, alert changes come as events
  });

  it('starts a new log for a new boot even when its first id follows the old boot last one', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.ingest([cpu('1700000000000-1', 1)]);
    mirror.ingest([cpu('1700000099000-2', 2)]);
    expect(mirror.hub.bootId).toBe('1700000099000');
    expect([mirror.hub.firstSeq, mirror.hub.lastSeq]).toEqual([2, 2]);
  });

  it('hands the alerts firing now to a stream that starts, in its backfill', () => {
    const mirror = new HostMirror('web-1', info('1700000000000'), () => {});
    mirror.ingest([alertEntry('1700000000000-1', firing('a')), cpu('1700000000000-2', 2)]);
    let handshake = '';
    const sink = {
      begin: (bytes: Buffer) => {
        handshake += bytes.toString();
        return true;
      },
      write: () => true,
      end: () => {},
      onClose: () => {},
    };
    mirror.streams.start(sink, { topics: ['cpu'], lastEventId: null });
    const backfill = handshake.split('\n\n').find((frame) => frame.includes('event: backfill')) ?? '';
    const data = JSON.parse(backfill.slice(backfill.indexOf('data: ') + 6)) as { alerts: AlertPayload[] };
    expect(data.alerts.map((alert) => alert.rule)).toEqual(['a']);
  });
});
