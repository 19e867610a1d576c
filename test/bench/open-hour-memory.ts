import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoHost } from '../../server/history/demo.js';
import { HistoryStore } from '../../server/history/store.js';
import { DEFAULT_RETENTION } from '../../server/history/tiers.js';
import type { Topic } from '../../server/protocol.js';

/**
 * Memory a store holds for one host's open hour: a whole hour of the demo generator's samples at 1 Hz
 * (cpu, memory, network, disk, process, requests with latency buckets: 21 600 samples) recorded into a
 * store with a directory, its journal written, then one query of the hour (which builds its columns and minutes), measured as
 * heap used plus array buffers after a full garbage collection, against the same before the samples.
 *
 *   node --expose-gc --import tsx test/bench/open-hour-memory.ts
 */

const HOUR = 3_600_000;
const TOPICS: Topic[] = ['cpu', 'memory', 'network', 'disk', 'process', 'requests'];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const used = () => {
  gc();
  gc();
  const memory = process.memoryUsage();
  return memory.heapUsed + memory.arrayBuffers;
};

const dir = mkdtempSync(join(tmpdir(), 'pulseboard-open-hour-'));
const hour = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const clock = { now: hour };
const demo = new DemoHost(1);
const before = used();
const store = HistoryStore.open({ dir, retention: DEFAULT_RETENTION, memoryMs: HOUR, now: () => clock.now, log: () => {} });
for (let i = 0; i < 3600; i++) {
  clock.now = hour + i * 1000;
  // Through JSON, as a hub reads them from Redis: objects of their own, not shared with the generator.
  const sample = JSON.parse(JSON.stringify(demo.samples(clock.now, 1000, HOUR)));
  for (const topic of TOPICS) store.record(topic, sample[topic], topic === 'requests' ? sample.buckets : undefined);
}
// The periodic work writes the journal's pending lines (the hour is still open: nothing is sealed).
await store.tick();
store.raw('cpu', hour, hour + HOUR);
store.aggregates('1m', 'requests', hour, hour + HOUR);
const after = used();
console.log(`open hour of one host (21 600 samples): ${((after - before) / 1e6).toFixed(1)} MB (heap used + array buffers, after gc)`);
store.close();
rmSync(dir, { recursive: true, force: true });
