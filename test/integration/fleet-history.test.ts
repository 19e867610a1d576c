import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetAgent } from '../../server/fleet/agent.js';
import { HOSTS_DIR, hostDirectory } from '../../server/fleet/fleet-history.js';
import { type AgentInfo, BUCKETS_FIELD, DATA_FIELD, EVENT_FIELD, eventsKey, HOSTS_KEY, infoKey } from '../../server/fleet/keys.js';
import { parseEntry } from '../../server/fleet/payloads.js';
import { type LatencyBuckets, toStoredPrecision } from '../../server/history/latency-buckets.js';
import { DEFAULT_RETENTION } from '../../server/history/tiers.js';
import { Monitor } from '../../server/monitor.js';
import type { HelloPayload, HistoryResponse } from '../../server/protocol.js';
import { RequestStats } from '../../server/requests/stats.js';
import { type RunningFleetHub, startFleetHub } from '../../server/serve.js';
import { agentInfoOf } from '../helpers/payloads.js';
import { type RunningRedis, startRedis } from '../helpers/redis.js';
import { testConfig } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';

/**
 * A hub with a data directory keeps each host's tiers itself: samples read from a real redis-server go to
 * `<data-dir>/hosts/<name>/`, survive the hub's restart (and the stream's loss), and coarse rows take
 * their latency percentiles from the buckets the agent sent.
 */

const BOOT = '1700000000000';
const MINUTE = 60_000;
let redis: RunningRedis;
let root: string;
const running: RunningFleetHub[] = [];

beforeAll(async () => {
  redis = await startRedis();
  root = mkdtempSync(join(tmpdir(), 'pulseboard-fleet-history-'));
}, 30_000);

afterAll(async () => {
  for (const hub of running) await hub.close();
  await redis?.destroy();
  rmSync(root, { recursive: true, force: true });
});

async function startHub(dataDir: string | null, log: string[] = []): Promise<RunningFleetHub> {
  const hub = await startFleetHub(testConfig({ redis: new URL(redis.url), port: 0, dataDir }), {
    webDir: null,
    log: (line) => log.push(line),
  });
  running.push(hub);
  return hub;
}

async function stopHub(hub: RunningFleetHub): Promise<void> {
  running.splice(running.indexOf(hub), 1);
  await hub.close();
}

const infoOf = (name: string): AgentInfo => agentInfoOf(name, BOOT, { topics: ['cpu', 'requests'], collectors: [] });

type Entry = [event: string, json: string, buckets?: string];

/** Writes a host as an agent does: set member, info hash, stream entries with ids `<boot>-<seq>`. */
async function writeHost(name: string, entries: Entry[]): Promise<void> {
  const client = redis.client();
  await client.sadd(HOSTS_KEY, name);
  await client.hset(infoKey(name), 'info', JSON.stringify(infoOf(name)));
  const pipeline = client.pipeline();
  entries.forEach(([event, json, buckets], i) => {
    const fields = [EVENT_FIELD, event, DATA_FIELD, json];
    if (buckets !== undefined) fields.push(BUCKETS_FIELD, buckets);
    pipeline.xadd(eventsKey(name), `${BOOT}-${i + 1}`, ...fields);
  });
  await pipeline.exec();
}

const cpuJson = (t: number) =>
  JSON.stringify({ t, total: (t / 1000) % 100, user: 3, system: 2, iowait: 0, cores: [5, 5], load: [0, 0, 0] });

function requestsJson(t: number, count: number, p99: number): string {
  const latency = { p50: p99, p90: p99, p99, max: p99 };
  return JSON.stringify({
    t,
    source: 'self',
    count,
    rate: count,
    inFlight: 0,
    status: { '1xx': 0, '2xx': count, '3xx': 0, '4xx': 0, '5xx': 0, aborted: 0 },
    latency,
    bytes: count * 100,
    window: { ms: 60_000, count, errors: 0, latency },
    routes: [],
  });
}

async function history(hub: RunningFleetHub, host: string, query: Record<string, string | number>): Promise<HistoryResponse> {
  const params = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
  const response = await fetch(`${hub.url}api/history?host=${host}&${params}`);
  const body = (await response.json()) as HistoryResponse;
  if (!response.ok) throw new Error(JSON.stringify(body));
  return body;
}

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)?.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every file and directory under `dir`, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('a hub with a data directory', () => {
  it("answers a host's history from its own files after a restart, even once Redis has lost the stream", async () => {
    const dataDir = join(root, 'restart');
    const now = Date.now();
    const times = Array.from({ length: 120 }, (_, i) => now - 20 * MINUTE + i * 10_000);
    await writeHost(
      'web-1',
      times.map((t) => ['cpu', cpuJson(t)]),
    );
    const query = { topics: 'cpu', from: now - 30 * MINUTE, to: now + MINUTE, points: 5000 };
    const cpuTimes = async (hub: RunningFleetHub) => ((await history(hub, 'web-1', query)).series.cpu?.t ?? []) as number[];

    const first = await startHub(dataDir);
    expect(
      await until(
        () => cpuTimes(first),
        (t) => t.length === times.length,
        'the samples on the first hub',
      ),
    ).toEqual(times);
    await stopHub(first);
    expect(tree(join(dataDir, HOSTS_DIR))).toContain(join('web-1', 'journal.ndjson'));

    // The stream is replayed into a store that holds it already: each sample is kept once.
    const second = await startHub(dataDir);
    expect(await cpuTimes(second)).toEqual(times);
    const health = (await (await fetch(`${second.url}healthz`)).json()) as { history: { writing: boolean; hosts: number } };
    expect(health.history).toMatchObject({ writing: true, hosts: 1 });
    await stopHub(second);

    await redis.client().del(eventsKey('web-1'));
    const third = await startHub(dataDir);
    const answer = await history(third, 'web-1', query);
    expect(answer.tier).toBe('raw');
    expect(answer.series.cpu?.t).toEqual(times);
    expect(answer.series.cpu?.total).toEqual(times.map((t) => (t / 1000) % 100));
    // A bad range gets the single server's 400 and reason.
    const bad = await fetch(`${third.url}api/history?host=web-1&topics=cpu&from=${now}&to=${now - MINUTE}&points=100`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe(`from (${now}) must be before to (${now - MINUTE})`);
    // The host's hello carries the store's state: the page offers its windows up to the 1h tier's year.
    const stream = await openSse(`${third.url}api/events?host=web-1&topics=cpu`);
    try {
      const frames = await stream.until((received) => received.some((frame) => frame.event === 'hello'));
      const hello = frames.find((frame) => frame.event === 'hello');
      const history = (JSON.parse(hello?.data ?? '{}') as HelloPayload).history;
      expect(history).toMatchObject({ writing: true, dir: join(dataDir, HOSTS_DIR, 'web-1'), retention: DEFAULT_RETENTION });
    } finally {
      stream.close();
    }
    await stopHub(third);
  }, 30_000);

  it("takes a coarse row's latency percentiles from the merged buckets the agent sent, and shows none for an older agent", async () => {
    const dataDir = join(root, 'coarse');
    const minute = Math.floor((Date.now() - 10 * MINUTE) / MINUTE) * MINUTE;
    const slowTick = 30;
    // 59 ticks of 100 requests at ~1 ms and one of 100 at ~900 ms: 1.7 % of the minute's requests are slow,
    // so its p99 is slow; a mean of the ticks' own p99s would be (59 × 1 + 900) / 60 ≈ 16 ms.
    const ticks = Array.from({ length: 60 }, (_, i) => {
      const slow = i === slowTick;
      return { t: minute + i * 1000, p99: slow ? 899.071 : 1.023, buckets: JSON.stringify({ v: [slow ? 899_071 : 1023], c: [100] }) };
    });
    await writeHost(
      'api-1',
      ticks.map(({ t, p99, buckets }): Entry => ['requests', requestsJson(t, 100, p99), buckets]),
    );
    await writeHost(
      'old-1',
      ticks.map(({ t, p99 }): Entry => ['requests', requestsJson(t, 100, p99)]),
    );
    const hub = await startHub(dataDir);
    const query = { topics: 'requests', from: minute - 5 * MINUTE, to: minute + 5 * MINUTE, points: 20 };
    const rowAt = (answer: HistoryResponse) => {
      const columns = answer.series.requests as unknown as Record<string, unknown[]>;
      const i = (columns.t ?? []).indexOf(minute);
      return { count: columns.count?.[i], latency: columns.latency?.[i] as { p99: number } | null | undefined };
    };

    const answer = await until(
      () => history(hub, 'api-1', query),
      (body) => rowAt(body).count === 6000,
      "api-1's minute",
    );
    expect(answer.tier).toBe('1m');
    expect(rowAt(answer).latency?.p99).toBeCloseTo(899.071, 1);

    const older = await until(
      () => history(hub, 'old-1', query),
      (body) => rowAt(body).count === 6000,
      "old-1's minute",
    );
    expect(older.tier).toBe('1m');
    expect(rowAt(older).latency).toBeNull();
    await stopHub(hub);
  }, 30_000);

  it('keeps every host inside <data-dir>/hosts/, and gives a name that would leave it no store', async () => {
    const dataDir = join(root, 'names');
    const now = Date.now();
    const unsafe = ['..', '../escape', 'a/b', '.hidden', '/abs'];
    for (const name of [...unsafe, 'safe-1']) await writeHost(name, [['cpu', cpuJson(now)]]);
    const hub = await startHub(dataDir);
    await until(
      async () => (await history(hub, 'safe-1', { topics: 'cpu', from: now - MINUTE, to: now + MINUTE, points: 100 })).series.cpu?.t ?? [],
      (t) => t.length === 1,
      'the safe host',
    );
    await stopHub(hub);
    // The hosts of the other tests are in Redis too: each has its directory, and no other name has one.
    expect(readdirSync(join(dataDir, HOSTS_DIR)).sort()).toEqual(['api-1', 'old-1', 'safe-1', 'web-1']);
    for (const path of tree(dataDir))
      expect(path === 'pulseboard.lock' || path === HOSTS_DIR || path.startsWith(`${HOSTS_DIR}/`), path).toBe(true);
    expect(existsSync(join(root, 'escape'))).toBe(false);
    expect(existsSync(join(dataDir, 'escape'))).toBe(false);
    for (const name of [...unsafe, '.', '', 'a\\b']) expect(hostDirectory(dataDir, name), name).toBeNull();
    expect(relative(dataDir, hostDirectory(dataDir, 'safe-1') ?? '')).toBe(join(HOSTS_DIR, 'safe-1'));
    for (const name of unsafe) await redis.client().srem(HOSTS_KEY, name);
  }, 30_000);
});

describe('a hub whose host store stops writing', () => {
  it("ends that host's streams, so each client resumes with a hello that says history is not being written", async () => {
    const dataDir = join(root, 'breaks');
    const now = Date.now();
    await writeHost(
      'web-9',
      Array.from({ length: 10 }, (_, i): Entry => ['cpu', cpuJson(now - 10_000 + i * 1000)]),
    );
    const log: string[] = [];
    const hub = await startHub(dataDir, log);
    try {
      const first = await until(
        () => openSse(`${hub.url}api/events?host=web-9&topics=cpu`),
        (stream) => stream.status === 200,
        'a stream of web-9',
      );
      const frames = await first.until((received) => received.some((frame) => frame.event === 'hello'));
      expect((JSON.parse(frames.find((frame) => frame.event === 'hello')?.data ?? '{}') as HelloPayload).history?.writing).toBe(true);

      // The host's directory becomes a file: the store's next write fails.
      const hostDir = join(dataDir, HOSTS_DIR, 'web-9');
      rmSync(hostDir, { recursive: true, force: true });
      writeFileSync(hostDir, 'not a directory\n');
      await redis.client().xadd(eventsKey('web-9'), `${BOOT}-11`, EVENT_FIELD, 'cpu', DATA_FIELD, cpuJson(now + 1000));
      await first.closed;
      const lastId = first.frames.filter((frame) => frame.id !== undefined).at(-1)?.id as string;

      const resumed = await openSse(`${hub.url}api/events?host=web-9&topics=cpu`, { 'Last-Event-ID': lastId });
      try {
        const again = await resumed.until((received) => received.some((frame) => frame.event === 'hello'));
        const hello = JSON.parse(again.find((frame) => frame.event === 'hello')?.data ?? '{}') as HelloPayload;
        expect(hello.mode).toBe('resume');
        expect(hello.history).toMatchObject({ writing: false, error: expect.stringMatching(/^history: cannot write to .*web-9/) });
      } finally {
        resumed.close();
      }
      expect(log.filter((line) => line.startsWith('history: cannot write'))).toHaveLength(1);
    } finally {
      await stopHub(hub);
      const client = redis.client();
      await client.del(eventsKey('web-9'), infoKey('web-9'));
      await client.srem(HOSTS_KEY, 'web-9');
    }
  }, 30_000);
});

describe('an agent', () => {
  it("sends each requests tick's latency buckets with the sample, at the 2 significant digits the hub keeps", async () => {
    const stats = new RequestStats({ source: 'self' });
    const host = {
      hostname: 'agent-b',
      os: 'Debian',
      platform: 'linux',
      release: '6',
      arch: 'x64',
      cpuModel: 'cpu',
      cores: 1,
      memTotal: 1,
      uptime: 1,
    };
    const monitor = await Monitor.create({
      config: testConfig({ intervalMs: 50, alerts: { rules: [], thresholds: {} } }),
      collectors: [],
      requestStats: stats,
      host,
    });
    const agent = new FleetAgent(monitor, { redis: new URL(redis.url), name: 'agent-b', backlog: 1000, log: () => {} });
    agent.start();
    monitor.start();
    try {
      // 3 requests in one tick: 1.234 ms twice and 250.7 ms once.
      for (const ms of [1.234, 1.234, 250.7]) stats.requestEnded('/x', '2xx', ms, 10);
      const entries = await until(
        async () => (await redis.client().xrange(eventsKey('agent-b'), '-', '+')).map(([, fields]) => parseEntry(fields)),
        (parsed) => parsed.some((entry) => entry.ok && entry.value.event === 'requests' && entry.value.data.count > 0),
        'a requests entry with requests',
      );
      const busy = entries.find((entry) => entry.ok && entry.value.event === 'requests' && entry.value.data.count > 0);
      const buckets = busy?.ok ? busy.value.buckets : undefined;
      // Two buckets within 0.8 % of 1.234 ms and 250.7 ms (µs), counts 2 and 1.
      expect(buckets?.c).toEqual([2, 1]);
      expect(Math.abs((buckets?.v[0] as number) / 1234 - 1)).toBeLessThan(0.008);
      expect(Math.abs((buckets?.v[1] as number) / 250_700 - 1)).toBeLessThan(0.008);
      expect(buckets).toEqual(toStoredPrecision(buckets as LatencyBuckets));
      const idle = entries.filter((entry) => entry.ok && entry.value.event === 'requests' && entry.value.data.count === 0);
      for (const entry of idle) expect(entry.ok && 'buckets' in entry.value).toBe(false);
    } finally {
      monitor.close();
      await agent.close();
    }
  }, 30_000);
});

describe('a hub whose data directory cannot be used says so in one line and serves live data', () => {
  const expectLive = async (hub: RunningFleetHub, log: string[], reason: RegExp) => {
    const fleet = await until(
      async () => (await (await fetch(`${hub.url}api/fleet`)).json()) as { hosts: { name: string }[] },
      (body) => body.hosts.some((host) => host.name === 'web-1'),
      'web-1 served',
    );
    expect(fleet.hosts.length).toBeGreaterThan(0);
    const health = (await (await fetch(`${hub.url}healthz`)).json()) as { history: { writing: boolean; error: string } };
    expect(health.history.writing).toBe(false);
    expect(health.history.error).toMatch(reason);
    const lines = log.filter((line) => line.includes('history'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(reason);
  };

  it('a data directory that is a file', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const log: string[] = [];
    const hub = await startHub(file, log);
    await expectLive(
      hub,
      log,
      /^history: .*a-file: .*; the hosts' history is not being written, live data is served from Redis and memory$/,
    );
    await stopHub(hub);
  }, 30_000);

  it('a second hub on the same directory', async () => {
    const dataDir = join(root, 'shared');
    const first = await startHub(dataDir);
    const log: string[] = [];
    const second = await startHub(dataDir, log);
    await expectLive(second, log, /another store of this process writes to it/);
    await Promise.all([stopHub(first), stopHub(second)]);
  }, 30_000);
});
