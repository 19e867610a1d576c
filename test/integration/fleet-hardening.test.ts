import fc from 'fast-check';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetHub } from '../../server/fleet/fleet-hub.js';
import { type AgentInfo, DATA_FIELD, EVENT_FIELD, eventsKey, HOSTS_KEY, infoKey } from '../../server/fleet/keys.js';
import type { HostMirror } from '../../server/fleet/mirror.js';
import { PAYLOAD_SCHEMAS } from '../../server/fleet/payloads.js';
import { check } from '../../server/fleet/schema.js';
import type { LoggedEventName } from '../../server/protocol.js';
import { type RunningFleetHub, startFleetHub } from '../../server/serve.js';
import { agentInfoOf, agentInfo as agentInfos, broken, fuzzEntry } from '../helpers/payloads.js';
import { type RunningRedis, startRedis } from '../helpers/redis.js';
import { testConfig } from '../helpers/server.js';
import { type Frame, openSse } from '../helpers/sse-reader.js';

/**
 * A hub against what a hostile or broken Redis can hold: the cases of issue 14, then random valid and
 * invalid stream entries and info hashes written to a real redis-server and read by a real hub, checked
 * through its HTTP routes.
 */

const BOOT = '1700000000000';
let redis: RunningRedis;
let running: RunningFleetHub;
let hub: FleetHub;
let fuzzInputs = 0;

beforeAll(async () => {
  redis = await startRedis();
  // Hosts found every 200 ms rather than 2 s: the cases below wait for hosts to come and go many times.
  running = await startFleetHub(testConfig({ redis: new URL(redis.url), port: 0 }), { webDir: null, discoverMs: 200 });
  hub = running.fleet;
}, 30_000);

afterAll(async () => {
  console.log(`fleet hub fuzz: ${fuzzInputs} entries and info hashes through Redis`);
  await running?.close();
  await redis?.destroy();
});

const infoOf = (name: string, overrides: Partial<AgentInfo> = {}): AgentInfo => agentInfoOf(name, BOOT, overrides);

const cpuJson = (t: number) => JSON.stringify({ t, total: 5, user: 3, system: 2, iowait: 0, cores: [5, 5], load: [0, 0, 0] });

/** Writes a host as an agent would (set member, info hash, stream entries), with whatever content is given. */
async function writeHost(name: string, info: unknown, entries: [event: string, json: string][], firstSeq = 1): Promise<string> {
  const client = redis.client();
  await client.sadd(HOSTS_KEY, name);
  await client.hset(infoKey(name), 'info', typeof info === 'string' ? info : JSON.stringify(info));
  return appendEntries(
    name,
    entries.map(([event, json]) => [EVENT_FIELD, event, DATA_FIELD, json]),
    firstSeq,
  );
}

/** XADDs the entries with consecutive ids from `firstSeq`; returns the last id. */
async function appendEntries(name: string, fieldsList: string[][], firstSeq: number): Promise<string> {
  let lastId = '';
  for (let i = 0; i < fieldsList.length; i += 1000) {
    const pipeline = redis.client().pipeline();
    fieldsList.slice(i, i + 1000).forEach((fields, j) => {
      lastId = `${BOOT}-${firstSeq + i + j}`;
      pipeline.xadd(eventsKey(name), lastId, ...fields);
    });
    await pipeline.exec();
  }
  return lastId;
}

async function until<T>(probe: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)?.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const mirrorOf = (name: string) => hub.all().find((mirror) => mirror.name === name) as HostMirror | undefined;
const get = async (path: string) => {
  const response = await fetch(new URL(path, running.url));
  return { status: response.status, text: await response.text() };
};
const warnings = async () => (JSON.parse((await get('healthz')).text) as { warnings: string[] }).warnings;
const calls = async (command: string) =>
  Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await redis.client().info('commandstats'))?.[1] ?? 0);

/** The handshake of a host's stream, as frames; every frame checked against the protocol. */
async function handshake(name: string): Promise<Frame[]> {
  const stream = await openSse(new URL(`api/events?host=${name}`, running.url).href);
  try {
    expect(stream.status).toBe(200);
    const frames = await stream.until((all) => all.some((frame) => frame.event === 'backfill'));
    expect(frames[0]?.kind).toBe('retry');
    expect(Number.isSafeInteger(frames[0]?.retry)).toBe(true);
    for (const frame of frames.filter((each) => each.kind === 'event')) {
      const data: unknown = JSON.parse(frame.data ?? '');
      const schema = PAYLOAD_SCHEMAS[frame.event as LoggedEventName] as ((value: unknown, path: string) => unknown) | undefined;
      if (schema) expect(check(schema, data).ok).toBe(true);
      if (frame.id !== undefined) expect(frame.id).toMatch(/^\d{1,16}-\d+$/);
    }
    return frames;
  } finally {
    stream.close();
  }
}

describe('a fleet hub reading what Redis holds, whatever it holds', () => {
  it('a health entry with "collectors": null at the end of a 6 000-entry stream: the host loads once and is served', async () => {
    const now = Date.now();
    const entries: [string, string][] = Array.from({ length: 6000 }, (_, i) => ['cpu', cpuJson(now - 6000 + i)]);
    await writeHost('y', infoOf('y'), [...entries, ['health', `{"t":${now},"collectors":null}`]]);
    await until(() => hub.board('y').ok, Boolean, 'host y to be served');
    expect(mirrorOf('y')?.skipped).toBe(1);
    // Two more discovery rounds (each reads every host's info hash) and not one more read of the stream.
    const reads = await calls('xrange');
    const infoReads = await calls('hget');
    const hosts = await redis.client().scard(HOSTS_KEY);
    await until(calls.bind(null, 'hget'), (n) => n >= infoReads + 2 * hosts, 'two discovery rounds');
    expect(await calls('xrange')).toBe(reads);
    await handshake('y');
  });

  it('one cpu entry with "cores": null: /metrics keeps answering for every host; the entry is skipped, counted and named', async () => {
    await writeHost('good', infoOf('good'), [['cpu', cpuJson(Date.now())]]);
    await writeHost('x', infoOf('x'), [['cpu', cpuJson(Date.now())]]);
    await until(() => hub.board('x').ok && hub.board('good').ok, Boolean, 'hosts x and good');
    await appendEntries('x', [[EVENT_FIELD, 'cpu', DATA_FIELD, '{"t":1,"cores":null}']], 2);
    await until(
      () => mirrorOf('x')?.lastId,
      (id) => id === `${BOOT}-2`,
      'the bad entry to be read',
    );
    const metrics = await get('metrics');
    expect(metrics.status).toBe(200);
    const cpu = parsePrometheus(metrics.text).find((family) => family.name === 'pulseboard_cpu_usage_ratio');
    expect(cpu?.metrics.map((metric) => metric.labels?.host)).toEqual(expect.arrayContaining(['good', 'x', 'y']));
    expect(await warnings()).toContain(
      `host "x": 1 invalid stream entry skipped (newest: ${BOOT}-2 (cpu total: expected a value (it is missing)))`,
    );
  });

  it('an info hash with a newline in bootId: that host is not served (502 naming the field), the others are', async () => {
    await writeHost('z', infoOf('z', { bootId: `${BOOT}\nevil: 1` }), []);
    await until(
      () => hub.board('z'),
      (lookup) => !lookup.ok && lookup.status === 502,
      'host z to be refused',
    );
    const answer = await get('api/events?host=z');
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toEqual({
      error: 'host "z" is not served: its info in Redis is invalid (bootId: expected up to 16 digits)',
    });
    expect(await warnings()).toContain('host "z": its info in Redis is invalid (bootId: expected up to 16 digits); not served');
    expect((await get('metrics')).status).toBe(200);
    await handshake('good');
  });

  it('an info hash whose retryMs is not a number: a new host is not served; a known host keeps its last valid info', async () => {
    await writeHost('w', infoOf('w', { retryMs: 'soon' as never }), [['cpu', cpuJson(Date.now())]]);
    await until(
      () => hub.board('w'),
      (lookup) => !lookup.ok && lookup.status === 502,
      'host w to be refused',
    );
    await redis.client().hset(infoKey('good'), 'info', JSON.stringify(infoOf('good', { retryMs: null as never })));
    await until(
      warnings,
      (list) => list.some((line) => line.startsWith('host "good": its info in Redis is invalid (retryMs')),
      'the warning',
    );
    const frames = await handshake('good');
    expect(frames[0]).toEqual({ kind: 'retry', retry: 2000 });
    await redis.client().hset(infoKey('good'), 'info', JSON.stringify(infoOf('good')));
  });

  it('a host gone from Redis is dropped: its open streams end and it becomes unknown', async () => {
    await writeHost('gone', infoOf('gone'), [['cpu', cpuJson(Date.now())]]);
    await until(() => hub.board('gone').ok, Boolean, 'host gone to be served');
    const stream = await openSse(new URL('api/events?host=gone', running.url).href);
    await stream.until((frames) => frames.some((frame) => frame.event === 'backfill'));
    await redis.client().srem(HOSTS_KEY, 'gone');
    await stream.closed;
    expect((await get('api/events?host=gone')).status).toBe(404);
    expect(JSON.parse((await get('api/fleet')).text).hosts.map((host: { name: string }) => host.name)).not.toContain('gone');

    await writeHost('gone-too', infoOf('gone-too'), [['cpu', cpuJson(Date.now())]]);
    await until(() => hub.board('gone-too').ok, Boolean, 'host gone-too to be served');
    await redis.client().del(infoKey('gone-too'));
    await until(
      () => hub.board('gone-too'),
      (lookup) => !lookup.ok && lookup.status === 404,
      'host gone-too to be dropped',
    );
  });

  it('random valid and invalid stream entries through Redis: never breaks, skips and counts the invalid, keeps answering (property)', async () => {
    await writeHost(
      'fz',
      infoOf('fz', {
        topics: ['cpu', 'memory', 'network', 'disk', 'filesystem', 'temperature', 'process', 'processes', 'containers', 'requests'],
      }),
      [],
    );
    await until(() => hub.board('fz').ok, Boolean, 'host fz');
    let seq = 1;
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzEntry, { minLength: 1, maxLength: 12 }), async (items) => {
        fuzzInputs += items.length;
        const skippedBefore = mirrorOf('fz')?.skipped ?? 0;
        const lastId = await appendEntries(
          'fz',
          items.map((item) => item.fields),
          seq,
        );
        seq += items.length;
        await until(
          () => mirrorOf('fz')?.lastId,
          (id) => id === lastId,
          `entries up to ${lastId}`,
        );
        const mirror = mirrorOf('fz') as HostMirror;
        expect(mirror.skipped - skippedBefore).toBe(items.filter((item) => !item.valid).length);

        const metrics = await get('metrics');
        expect(metrics.status).toBe(200);
        parsePrometheus(metrics.text);
        await handshake('fz');
        for (const path of ['api/snapshot?host=fz', 'api/history?host=fz', 'api/fleet']) {
          const answer = await get(path);
          expect(answer.status, path).toBe(200);
          JSON.parse(answer.text);
        }
        if (mirror.skipped > 0) {
          const entries = mirror.skipped === 1 ? 'entry' : 'entries';
          expect((await warnings()).some((line) => line.startsWith(`host "fz": ${mirror.skipped} invalid stream ${entries} skipped`))).toBe(
            true,
          );
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);

  it('random valid and broken info hashes through Redis: valid hosts are served, broken ones refused and named (property)', async () => {
    const info = fc.oneof(
      agentInfos.map((value) => ({ json: value as unknown, valid: true })),
      agentInfos.chain((value) => broken(value)).map(({ json }) => ({ json, valid: false })),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(info, { minLength: 1, maxLength: 4 }), async (hosts) => {
        fuzzInputs += hosts.length;
        run++;
        const names = hosts.map((_, i) => `fi-${run}-${i}`);
        for (const [i, host] of hosts.entries()) await writeHost(names[i] as string, host.json, [['cpu', cpuJson(Date.now())]]);
        const served = (name: string, valid: boolean) => {
          const lookup = hub.board(name);
          return valid ? lookup.ok : !lookup.ok && lookup.status === 502;
        };
        await until(() => hosts.every((host, i) => served(names[i] as string, host.valid)), Boolean, `hosts ${names.join(', ')}`);

        const listed = await warnings();
        for (const [i, host] of hosts.entries()) {
          const name = names[i] as string;
          if (host.valid) {
            const frames = await handshake(name);
            expect(frames[0]?.retry).toBe((host.json as AgentInfo).retryMs);
          } else {
            const answer = await get(`api/events?host=${name}`);
            expect(answer.status).toBe(502);
            expect(JSON.parse(answer.text).error).toMatch(new RegExp(`^host "${name}" is not served: its info in Redis is invalid \\(`));
            expect(listed.some((line) => line.startsWith(`host "${name}": its info in Redis is invalid (`))).toBe(true);
          }
        }
        expect((await get('metrics')).status).toBe(200);
        expect((await get('api/fleet')).status).toBe(200);
      }),
      { numRuns: 8 },
    );
  }, 120_000);
});
