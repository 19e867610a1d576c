import { afterEach, describe, expect, it } from 'vitest';
import { FleetAgent } from '../../server/fleet/agent.js';
import { DATA_FIELD, EVENT_FIELD, eventsKey } from '../../server/fleet/keys.js';
import { Monitor } from '../../server/monitor.js';
import type { HostInfo } from '../../server/protocol.js';
import { type RunningRedis, startRedis } from '../helpers/redis.js';
import { testConfig } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

const HOST: HostInfo = {
  hostname: 'agent-test',
  os: 'Debian',
  platform: 'linux',
  release: '6',
  arch: 'x64',
  cpuModel: 'cpu',
  cores: 1,
  memTotal: 1,
  uptime: 1,
};

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
  }, 30_000);
});
