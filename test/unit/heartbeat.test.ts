import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCli } from '../../server/config.js';
import { Monitor } from '../../server/monitor.js';
import { testHost } from '../helpers/host.js';

const HOST = testHost('h');

let monitor: Monitor | undefined;
afterEach(() => {
  monitor?.close();
  vi.useRealTimers();
});

/** A monitor built from these flags, with a subscriber that records what its streams would be sent. */
async function monitorWith(argv: string[]): Promise<{ pings: () => number }> {
  const command = parseCli(argv, {});
  if (command.kind !== 'run') throw new Error(command.kind);
  monitor = await Monitor.create({ config: command.config, collectors: [], host: HOST });
  const sent: string[] = [];
  monitor.hub.subscribe({ wants: () => true, send: (bytes) => sent.push(bytes.toString()) });
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
  monitor.start();
  return { pings: () => sent.filter((text) => text === ': ping\n\n').length };
}

describe('heartbeat', () => {
  it('sends a `: ping` comment to every stream each 15 s by default', async () => {
    const { pings } = await monitorWith([]);
    vi.advanceTimersByTime(14_999);
    expect(pings()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(pings()).toBe(1);
    vi.advanceTimersByTime(15_000 * 3);
    expect(pings()).toBe(4);
  });

  it('follows --heartbeat', async () => {
    const { pings } = await monitorWith(['--heartbeat', '2s']);
    vi.advanceTimersByTime(1999);
    expect(pings()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(pings()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(pings()).toBe(6);
  });

  it('stops with the monitor', async () => {
    const { pings } = await monitorWith(['--heartbeat', '2s']);
    vi.advanceTimersByTime(2000);
    monitor?.close();
    vi.advanceTimersByTime(10_000);
    expect(pings()).toBe(1);
  });
});
