import { afterEach, describe, expect, it } from 'vitest';
import { parseCli } from '../../server/config.js';
import { Monitor } from '../../server/monitor.js';
import { testHost } from '../helpers/host.js';

const HOST = testHost('h');

const monitors: Monitor[] = [];
afterEach(() => {
  for (const monitor of monitors.splice(0)) monitor.close();
});

/** The sources of a monitor built from these command-line flags, by topic. */
async function sourcesFor(argv: string[]): Promise<Record<string, string>> {
  const command = parseCli(argv, {});
  if (command.kind !== 'run') throw new Error(command.kind);
  const monitor = await Monitor.create({ config: command.config, host: HOST });
  monitors.push(monitor);
  return Object.fromEntries(monitor.health().map((health) => [health.topic, health.source]));
}

describe('--portable', () => {
  it('samples the host through systeminformation, where /proc is readable too', async () => {
    const sources = await sourcesFor(['--portable']);
    for (const topic of ['cpu', 'memory', 'network', 'disk', 'filesystem', 'processes']) {
      expect(sources[topic], topic).toBe('systeminformation');
    }
  });

  it('is off by default: this Linux host is sampled from /proc', async () => {
    const sources = await sourcesFor([]);
    for (const topic of ['cpu', 'memory', 'network', 'disk', 'filesystem', 'processes']) expect(sources[topic], topic).toBe('procfs');
  });
});
