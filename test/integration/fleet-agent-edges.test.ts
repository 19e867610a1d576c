import { afterEach, describe, expect, it } from 'vitest';
import { FleetAgent } from '../../server/fleet/agent.js';
import { DATA_FIELD, EVENT_FIELD, eventsKey, infoKey } from '../../server/fleet/keys.js';
import { Monitor } from '../../server/monitor.js';
import { testHost } from '../helpers/host.js';
import { type RunningRedis, startRedis } from '../helpers/redis.js';
import { testConfig } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

const HOST = testHost('agent-test');
const KEY = eventsKey('agent-test');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Real Redis, a monitor sampling a test CPU every 10 ms (not started), an agent in front of it (started). */
async function agentWithRedis(options: { log?: boolean; beforeStart?: (redis: RunningRedis) => Promise<unknown> } = {}) {
  const redis: RunningRedis = await startRedis();
  cleanups.push(() => redis.destroy());
  await options.beforeStart?.(redis);
  const cpu = steerableCpu(10);
  const monitor = await Monitor.create({
    config: testConfig({ intervalMs: 10, alerts: { rules: [], thresholds: {} } }),
    collectors: [cpu.collector],
    host: HOST,
  });
  cleanups.push(() => monitor.close());
  const published: string[] = [];
  monitor.onEvent((_event, data) => published.push(JSON.stringify(data)));
  const log: string[] = [];
  const agent = new FleetAgent(monitor, {
    redis: new URL(redis.url),
    name: 'agent-test',
    backlog: 1000,
    log: options.log === false ? undefined : (line) => log.push(line),
  });
  cleanups.push(() => agent.close());
  agent.start();
  const entries = () => redis.client().xrange(KEY, '-', '+');
  const dataOf = async () => (await entries()).map(([, fields]) => fields[fields.indexOf(DATA_FIELD) + 1]);
  return { redis, monitor, agent, published, log, entries, dataOf };
}

/** How often Redis has run a command since it started (INFO commandstats). */
async function callsOf(redis: RunningRedis, command: string): Promise<number> {
  const stats = await redis.client().info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

/** Connections Redis holds besides the test's own client. */
async function otherClients(redis: RunningRedis): Promise<number> {
  const list = String(await redis.client().call('CLIENT', 'LIST'));
  return list.trim().split('\n').length - 1;
}

describe('fleet agent, edges', () => {
  it('says only "connected to <host>" when nothing waits at the connection', async () => {
    const { redis, log } = await agentWithRedis();
    await waitFor(() => log.length > 0, 'the connected line');
    expect(log).toEqual([`connected to 127.0.0.1:${redis.port}`]);
  }, 30_000);

  it('writes its info once while nothing in it changes, not on every event, and tells of no catch-up nor write error', async () => {
    const { redis, monitor, entries, log } = await agentWithRedis();
    monitor.start();
    await waitFor(async () => (await entries()).length >= 20, 'twenty entries');
    const writes = await callsOf(redis, 'hset');
    expect(writes).toBeGreaterThanOrEqual(1);
    const count = (await entries()).length;
    await waitFor(async () => (await entries()).length >= count + 50, 'fifty more entries');
    expect(await callsOf(redis, 'hset')).toBe(writes);
    expect(log.filter((line) => line.startsWith('caught up'))).toEqual([]);
    expect(log.filter((line) => line.startsWith('cannot write'))).toEqual([]);
  }, 30_000);

  it('says nothing of losing Redis when it is closed itself', async () => {
    const { redis, monitor, agent, entries, log } = await agentWithRedis();
    monitor.start();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    monitor.close();
    await agent.close();
    await waitFor(async () => (await otherClients(redis)) === 0, 'the agent to leave Redis');
    await redis.client().ping(); // one more round trip: the agent's own 'close' has come by now
    expect(log.filter((line) => line.startsWith('lost Redis'))).toEqual([]);
  }, 30_000);

  it('tells a write error once per try, and tries again each second until the events go out, with nothing new to send', async () => {
    const { redis, monitor, agent, entries, published, dataOf, log } = await agentWithRedis();
    monitor.start();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    // The stream's key now holds a string: every XADD fails (its info was written, so only the events are left).
    await redis.client().del(KEY);
    await redis.client().set(KEY, 'not a stream');
    await waitFor(() => log.some((line) => line.startsWith('cannot write to Redis')), 'the write error');
    expect(log.find((line) => line.startsWith('cannot write to Redis'))).toBe(
      'cannot write to Redis (WRONGTYPE Operation against a key holding the wrong kind of value); will retry',
    );
    await waitFor(() => agent.waiting >= 5, 'events waiting');
    monitor.close();
    const waiting = agent.waiting;
    await redis.client().del(KEY);
    // No new event comes to start a write: only the agent's own retry sends what waits.
    await waitFor(() => agent.waiting === 0, 'the retry to send the waiting events');
    expect(await dataOf()).toEqual(published.slice(-waiting));
  }, 30_000);

  it('tells a failed info write (a command inside MULTI/EXEC) and writes the info again once it can', async () => {
    const info = infoKey('agent-test');
    // Before the agent starts: it writes its info as soon as it connects. HSET inside the transaction fails;
    // EXEC itself does not.
    const { redis, monitor, log } = await agentWithRedis({ beforeStart: (redis) => redis.client().set(info, 'not a hash') });
    monitor.start();
    await waitFor(() => log.some((line) => line.startsWith('cannot write to Redis')), 'the info write error');
    expect(log.find((line) => line.startsWith('cannot write to Redis'))).toBe(
      'cannot write to Redis (WRONGTYPE Operation against a key holding the wrong kind of value); will retry',
    );
    await redis.client().del(info);
    await waitFor(async () => (await redis.client().hget(info, 'info')) !== null, 'the info written on a retry');
    expect(JSON.parse((await redis.client().hget(info, 'info')) ?? '{}').name).toBe('agent-test');
  }, 30_000);

  it('says nothing of a write that fails while it closes', async () => {
    const { redis, monitor, agent, entries, log } = await agentWithRedis();
    monitor.start();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    await redis.client().del(KEY);
    await redis.client().set(KEY, 'not a stream');
    await waitFor(() => agent.waiting >= 5, 'events waiting behind the failing writes');
    monitor.close();
    const told = log.filter((line) => line.startsWith('cannot write')).length;
    await agent.close(); // its last flush fails too
    expect(log.filter((line) => line.startsWith('cannot write'))).toHaveLength(told);
  }, 30_000);

  it('counts a write whose reply it did not see as sent when its id is in the stream, and keeps its boot', async () => {
    const { redis, monitor, agent, entries, published, dataOf, log } = await agentWithRedis();
    monitor.start();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    monitor.close();
    await waitFor(() => agent.waiting === 0, 'the events sent');
    const [boot, seq] = ((await entries()).at(-1)?.[0] ?? '').split('-').map(Number) as [number, number];
    // As if the agent's next two writes had landed and their replies were lost.
    for (const next of [seq + 1, seq + 2]) await redis.client().xadd(KEY, `${boot}-${next}`, EVENT_FIELD, 'cpu', DATA_FIELD, '"landed"');
    const sentBefore = published.length;
    monitor.start();
    await waitFor(async () => (await entries()).length >= seq + 2 + 10, 'entries after the landed ones');
    monitor.close();
    await agent.close();
    const ids = (await entries()).map(([id]) => id);
    expect(ids).toEqual(ids.map((_, i) => `${boot}-${i + 1}`));
    // The first two new events stand for the writes that landed; the others follow them in order.
    expect((await dataOf()).slice(seq + 2)).toEqual(published.slice(sentBefore + 2));
    expect(log.filter((line) => line.includes('another agent'))).toEqual([]);
  }, 30_000);

  it('writes its lines to stderr, prefixed, when given no log', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      if (String(chunk).startsWith('pulseboard agent: ')) lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const { redis } = await agentWithRedis({ log: false });
      await waitFor(() => lines.length > 0, 'the connected line on stderr');
      expect(lines).toEqual([`pulseboard agent: connected to 127.0.0.1:${redis.port}\n`]);
    } finally {
      process.stderr.write = write;
    }
  }, 30_000);
});
