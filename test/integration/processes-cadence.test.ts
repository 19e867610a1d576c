import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Collector } from '../../server/collect/collector.js';
import type { ProcessesSample } from '../../server/protocol.js';
import { startTestServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A processes collector that counts its walks: 100 ms while watched, a minute otherwise. */
function countingProcesses(): { collector: Collector; walks: () => number } {
  let walks = 0;
  const collector: Collector<'processes'> = {
    topic: 'processes',
    source: 'test',
    cadenceMs: 100,
    idleCadenceMs: 60_000,
    sample: (t): ProcessesSample => {
      walks++;
      return { t, count: 1, top: [] };
    },
  };
  return { collector, walks: () => walks };
}

describe('the processes walk follows the pages that show it', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('walks once a minute with no stream, at its cadence while a stream wants the topic, and slows again when it closes', async () => {
    const processes = countingProcesses();
    const server = await startTestServer({}, { collectors: [processes.collector] });
    cleanup.push(() => server.close());
    await sleep(600); // six watched periods
    expect(processes.walks()).toBeLessThanOrEqual(1); // the walk at start only

    const stream = await openSse(`${server.url}api/events?topics=processes`);
    // Live events, past the backfill: the walk runs again for this page.
    await stream.until((frames) => frames.filter((f) => f.event === 'processes').length >= 3);

    // A stream without the topic does not count.
    const other = await openSse(`${server.url}api/events?topics=cpu`);
    cleanup.push(() => other.close());
    stream.close();
    await stream.closed;
    await vi.waitFor(() => expect(server.monitor.streams.count).toBe(1), { timeout: 10_000 });
    const afterClose = processes.walks();
    await sleep(600);
    expect(processes.walks()).toBeLessThanOrEqual(afterClose + 1);
  });

  it('keeps the cadence with no stream when told to sample unwatched topics (a fleet agent)', async () => {
    const processes = countingProcesses();
    const server = await startTestServer({}, { collectors: [processes.collector], sampleUnwatched: true });
    cleanup.push(() => server.close());
    await vi.waitFor(() => expect(processes.walks()).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
  });
});
