import { afterEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../server/collect/collector.js';
import { FleetAgent } from '../../server/fleet/agent.js';
import { type AgentInfo, DATA_FIELD, EVENT_FIELD, eventsKey, HOSTS_KEY, infoKey } from '../../server/fleet/keys.js';
import { Monitor } from '../../server/monitor.js';
import { testHost } from '../helpers/host.js';
import { type RunningRedis, startRedis } from '../helpers/redis.js';
import { testConfig } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

const HOST = testHost('agent-test');

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

/** A monitor sampling a test CPU every 10 ms, an agent in front of it, and Redis stopped. */
async function agentWhileRedisIsDown(backlog: number) {
  const redis: RunningRedis = await startRedis();
  cleanups.push(() => redis.destroy());
  await redis.stop();
  const cpu = steerableCpu(10);
  const monitor = await Monitor.create({
    config: testConfig({ intervalMs: 10, alerts: { rules: [], thresholds: {} } }),
    collectors: [cpu.collector],
    host: HOST,
  });
  cleanups.push(() => monitor.close());
  const published: string[] = [];
  monitor.onEvent((event, data) => {
    if (event === 'cpu') published.push(JSON.stringify(data));
  });
  const log: string[] = [];
  const agent = new FleetAgent(monitor, { redis: new URL(redis.url), name: 'agent-test', backlog, log: (line) => log.push(line) });
  cleanups.push(() => agent.close());
  agent.start();
  return { redis, monitor, agent, published, log };
}

describe('fleet agent backlog', () => {
  it('keeps the newest events while Redis is away, drops the oldest, and sends the kept ones in order when it returns', async () => {
    const backlog = 50;
    const { redis, monitor, agent, published, log } = await agentWhileRedisIsDown(backlog);
    monitor.start();
    await waitFor(() => published.length >= backlog + 30, 'events past the backlog');
    monitor.close();
    expect(agent.waiting).toBe(backlog);
    expect(log).toContain(`backlog full (${backlog} events): dropping the oldest until Redis returns`);

    await redis.start();
    await waitFor(() => agent.waiting === 0 && log.some((line) => line.startsWith('caught up')), 'the backlog to go out');
    const entries = await redis.client().xrange(eventsKey('agent-test'), '-', '+');
    const fields = (entry: (typeof entries)[number], name: string) => entry[1][entry[1].indexOf(name) + 1];
    expect(entries.map((entry) => fields(entry, EVENT_FIELD))).toEqual(Array(backlog).fill('cpu'));
    expect(entries.map((entry) => fields(entry, DATA_FIELD))).toEqual(published.slice(-backlog));
    const seqs = entries.map(([id]) => Number(id.split('-')[1]));
    expect(seqs).toEqual(Array.from({ length: backlog }, (_, i) => i + 1));
    expect(log).toContain(`caught up; ${published.length - backlog} events were dropped while Redis was away`);

    // A second outage is told and counted anew.
    await redis.stop();
    await waitFor(() => log.some((line) => line.startsWith('lost Redis')), 'the agent to see Redis gone');
    const sent = published.length;
    monitor.start();
    await waitFor(() => published.length >= sent + backlog + 10, 'a second overflow');
    monitor.close();
    const second = published.length - sent;
    await redis.start();
    await waitFor(() => log.filter((line) => line.startsWith('caught up')).length === 2, 'the second catch-up');
    expect(log.filter((line) => line.startsWith('backlog full'))).toHaveLength(2);
    expect(log.filter((line) => line.startsWith('caught up')).at(-1)).toBe(
      `caught up; ${second - backlog} events were dropped while Redis was away`,
    );
  }, 30_000);
});

/** An agent in front of a monitor sampling a test CPU every 10 ms, with Redis up. */
async function agentWithRedis(options: { redis?: RunningRedis; alertAbove?: number } = {}) {
  const redis = options.redis ?? (await startRedis());
  if (!options.redis) cleanups.push(() => redis.destroy());
  const cpu = steerableCpu(10);
  const rules =
    options.alertAbove === undefined
      ? []
      : [{ name: 'cpu-test', metric: 'cpu' as const, above: options.alertAbove, forMs: 0, severity: 'critical' as const }];
  const monitor = await Monitor.create({
    config: testConfig({ intervalMs: 10, alerts: { rules, thresholds: {} } }),
    collectors: [cpu.collector],
    host: HOST,
  });
  cleanups.push(() => monitor.close());
  const published: string[] = [];
  monitor.onEvent((_event, data) => published.push(JSON.stringify(data)));
  const log: string[] = [];
  const agent = new FleetAgent(monitor, { redis: new URL(redis.url), name: 'agent-test', backlog: 1000, log: (line) => log.push(line) });
  cleanups.push(() => agent.close());
  agent.start();
  monitor.start();
  const entries = () => redis.client().xrange(eventsKey('agent-test'), '-', '+');
  const info = async () => JSON.parse((await redis.client().hget(infoKey('agent-test'), 'info')) ?? 'null') as AgentInfo;
  return { redis, cpu, monitor, agent, published, log, entries, info };
}

describe('fleet agent', () => {
  it('appends every event to the host stream with ids <boot>-1, -2, ..., and writes its info for the hubs', async () => {
    const startedAt = Date.now();
    const { redis, monitor, agent, published, log, entries, info } = await agentWithRedis();
    await waitFor(async () => (await entries()).length >= 20, 'twenty entries');
    monitor.close();
    await agent.close();
    const all = await entries();
    expect(all.map(([, fields]) => fields[fields.indexOf(DATA_FIELD) + 1])).toEqual(published);
    const boot = (all[0]?.[0] ?? '').split('-')[0] as string;
    expect(Number(boot)).toBeGreaterThanOrEqual(startedAt);
    expect(Number(boot)).toBeLessThanOrEqual(Date.now());
    expect(all.map(([id]) => id)).toEqual(all.map((_, i) => `${boot}-${i + 1}`));
    expect(await redis.client().smembers(HOSTS_KEY)).toEqual(['agent-test']);
    expect(await info()).toMatchObject({ name: 'agent-test', bootId: boot, capacity: monitor.hub.capacity, topics: ['cpu'], alerts: [] });
    // Sampling does not wait for the connection: what came first waited in the backlog.
    expect(log[0]).toMatch(new RegExp(`^connected to 127\\.0\\.0\\.1:${redis.port}(; sending \\d+ waiting events)?$`));
  }, 30_000);

  it('takes a boot later than any id in the stream, even one written by a clock ahead of this one', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.destroy());
    const ahead = Date.now() + 1_000_000_000;
    await redis.client().xadd(eventsKey('agent-test'), `${ahead}-5`, EVENT_FIELD, 'cpu', DATA_FIELD, '{"t":1}');
    const { monitor, agent, entries } = await agentWithRedis({ redis });
    await waitFor(async () => (await entries()).length >= 5, 'new entries');
    monitor.close();
    await agent.close();
    expect((await entries())[1]?.[0]).toBe(`${ahead + 1}-1`);
  }, 30_000);

  it('starts a new boot, and says so, when another writer has put newer ids in its stream', async () => {
    const { redis, entries, log } = await agentWithRedis();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    const boot = Number(((await entries())[0]?.[0] ?? '').split('-')[0]);
    const other = boot + 1000;
    await redis.client().xadd(eventsKey('agent-test'), `${other}-1`, EVENT_FIELD, 'cpu', DATA_FIELD, '{"t":1}');
    await waitFor(async () => ((await entries()).at(-1)?.[0] ?? '').startsWith(`${other + 1}-`), 'entries of a new boot');
    expect(log).toContain('the stream of "agent-test" has newer ids than this agent wrote: is another agent using --name agent-test?');
    const ids = (await entries()).map(([id]) => id);
    const after = ids.slice(ids.indexOf(`${other}-1`) + 1);
    expect(after.map((id) => Number(id.split('-')[1]))).toEqual(after.map((_, i) => i + 1));
  }, 30_000);

  it('rewrites its info when a collector starts failing', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.destroy());
    let broken = false;
    const flaky: Collector<'cpu'> = {
      topic: 'cpu',
      source: 'test',
      cadenceMs: 10,
      sample: (t) => {
        if (broken) throw new Error('sensor gone');
        return { t, total: 1, user: 1, system: 0, iowait: 0, cores: [1], load: [0, 0, 0] };
      },
    };
    const monitor = await Monitor.create({
      config: testConfig({ intervalMs: 10, alerts: { rules: [], thresholds: {} } }),
      collectors: [flaky],
      host: HOST,
    });
    cleanups.push(() => monitor.close());
    const agent = new FleetAgent(monitor, { redis: new URL(redis.url), name: 'agent-test', backlog: 1000, log: () => {} });
    cleanups.push(() => agent.close());
    agent.start();
    monitor.start();
    const info = async () => JSON.parse((await redis.client().hget(infoKey('agent-test'), 'info')) ?? 'null') as AgentInfo | null;
    await waitFor(async () => (await info())?.collectors[0]?.ok === true, 'the info with a healthy collector');
    broken = true;
    await waitFor(async () => (await info())?.collectors[0]?.ok === false, 'the info with the failing collector');
    expect((await info())?.collectors[0]).toMatchObject({ topic: 'cpu', ok: false, error: 'sensor gone' });
  }, 30_000);

  it('rewrites its info when an alert changes, so a hub that starts now shows it', async () => {
    const { cpu, info } = await agentWithRedis({ alertAbove: 50 });
    await waitFor(async () => (await info()) !== null, 'the info');
    expect((await info()).alerts).toEqual([]);
    cpu.set(95);
    await waitFor(async () => (await info()).alerts.length === 1, 'the alert in the info');
    expect((await info()).alerts[0]).toMatchObject({ rule: 'cpu-test', state: 'firing', value: 95 });
    cpu.set(10);
    await waitFor(async () => (await info()).alerts.length === 0, 'the alert gone from the info');
  }, 30_000);

  it('says when it loses Redis, keeps the events meanwhile, and sends them when Redis is back', async () => {
    const { redis, agent, log, entries } = await agentWithRedis();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    await redis.stop();
    await waitFor(() => log.some((line) => line.startsWith('lost Redis')), 'the lost line');
    expect(log.find((line) => line.startsWith('lost Redis'))).toMatch(/^lost Redis \(.+\); keeping up to 1000 events until it returns$/);
    await waitFor(() => agent.waiting >= 10, 'events waiting');
    await redis.start();
    await waitFor(() => log.some((line) => /^connected to 127\.0\.0\.1:\d+; sending \d+ waiting events$/.test(line)), 'the back line');
    await waitFor(() => agent.waiting === 0, 'the backlog sent');
    const ids = (await entries()).map(([id]) => Number(id.split('-')[1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  }, 30_000);
});

describe('fleet agent shutdown', () => {
  it('sends every event sampled before close(), also those that came while a write was on its way', async () => {
    const { redis, monitor, agent, published, entries } = await agentWithRedis();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    // Redis holds writes for a moment: the agent's next write stays on its way while events keep coming.
    await redis.client().call('CLIENT', 'PAUSE', '300', 'WRITE');
    const before = published.length;
    await waitFor(() => published.length >= before + 5 && agent.waiting > 0, 'events behind a write on its way');
    monitor.close();
    await agent.close();
    expect(agent.waiting).toBe(0);
    const data = (await entries()).map(([, fields]) => fields[fields.indexOf(DATA_FIELD) + 1]);
    expect(data).toEqual(published);
  }, 30_000);
});

describe('fleet agent connection', () => {
  it('says when its connection to Redis drops, and reconnects by itself', async () => {
    const { redis, log, entries } = await agentWithRedis();
    await waitFor(async () => (await entries()).length >= 5, 'first entries');
    // As if Redis had come back empty: the agent writes its info again on every connection.
    await redis.client().del(infoKey('agent-test'), HOSTS_KEY);
    await redis.client().call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await waitFor(() => log.some((line) => line.startsWith('lost Redis')), 'the lost line');
    await waitFor(() => log.filter((line) => line.startsWith('connected to ')).length === 2, 'the reconnection');
    await waitFor(async () => (await redis.client().smembers(HOSTS_KEY)).includes('agent-test'), 'the info written again');
    const count = (await entries()).length;
    await waitFor(async () => (await entries()).length >= count + 5, 'entries after the reconnection');
    expect(log.filter((line) => line.startsWith('lost Redis'))).toHaveLength(1);
  }, 30_000);
});
