import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Collector } from '../../server/collect/collector.js';
import { findInvalidNumber, Sampler } from '../../server/collect/sampler.js';
import type { CollectorHealth, DiskSample, Sample, Topic } from '../../server/protocol.js';

function collector(topic: Topic, sample: (t: number) => unknown, cadenceMs = 1000): Collector {
  return { topic, source: 'test', cadenceMs, sample: sample as Collector['sample'] };
}

const diskAt = (t: number): DiskSample => ({ t, read: 1, write: 2 });

describe('Sampler', () => {
  let published: { topic: Topic; sample: Sample }[];
  let healthChanges: CollectorHealth[][];

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_500 }); // half a tick past a boundary: the first tick comes 500 ms after start
    published = [];
    healthChanges = [];
  });
  afterEach(() => vi.useRealTimers());

  const start = (collectors: Collector[], timeoutMs = 500) => {
    const sampler = new Sampler(collectors, {
      timeoutMs,
      publish: (topic, sample) => published.push({ topic, sample }),
      onHealthChange: (health) => healthChanges.push(health),
    });
    sampler.start();
    return sampler;
  };

  it('samples each collector on its own cadence', async () => {
    const sampler = start([collector('disk', diskAt, 1000), collector('memory', (t) => ({ t }), 3000)]);
    await vi.advanceTimersByTimeAsync(6000);
    expect(published.filter((p) => p.topic === 'disk')).toHaveLength(6);
    // Slow cadences also sample once at start, so their panel is not empty for a whole period.
    expect(published.filter((p) => p.topic === 'memory')).toHaveLength(3);
    sampler.stop();
  });

  it('publishes a synchronous collector in the timer callback itself: no promise turn, no deadline timer', () => {
    const sampler = start([collector('disk', diskAt, 1000), collector('memory', (t) => ({ t }), 1000)]);
    vi.advanceTimersByTime(500); // synchronous: microtasks cannot run before the check
    expect(published.map((p) => p.topic)).toEqual(['disk', 'memory']);
    sampler.stop();
  });

  it('wakes once per tick for all collectors of one cadence: one timer per cadence', async () => {
    const slow = (topic: Topic) => collector(topic, (t) => ({ t }), 5000);
    const sampler = start([collector('disk', diskAt, 1000), collector('memory', (t) => ({ t }), 1000), slow('cpu'), slow('network')]);
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(vi.getTimerCount()).toBe(2);
    expect(published.filter((p) => p.topic === 'disk')).toHaveLength(5);
    expect(published.filter((p) => p.topic === 'network')).toHaveLength(2); // at start, and on the 5 s boundary
    sampler.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps sampling the others when one throws, and reports the failure once with its message', async () => {
    const sampler = start([
      collector('cpu', () => {
        throw new Error('cannot read /proc/stat\n    at stack frame');
      }),
      collector('disk', diskAt),
    ]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(published.filter((p) => p.topic === 'disk')).toHaveLength(3);
    expect(published.filter((p) => p.topic === 'cpu')).toHaveLength(0);
    expect(healthChanges).toHaveLength(1);
    const cpu = sampler.health().find((h) => h.topic === 'cpu');
    expect(cpu).toMatchObject({ ok: false, error: 'cannot read /proc/stat', failures: 3 });
    sampler.stop();
  });

  it('reports a hung collector as timed out, does not pile up calls, and recovers when it answers', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const hanging = collector('cpu', (t) => {
      calls++;
      if (calls === 1) return new Promise((resolve) => (release = () => resolve({ t })));
      return { t, total: 1, user: 1, system: 0, iowait: 0, cores: [1], load: [0, 0, 0] };
    });
    const sampler = start([hanging, collector('disk', diskAt)], 500);
    await vi.advanceTimersByTimeAsync(4000);
    expect(calls).toBe(1);
    expect(sampler.health().find((h) => h.topic === 'cpu')).toMatchObject({ ok: false, error: 'timed out after 500 ms' });
    expect(published.filter((p) => p.topic === 'disk')).toHaveLength(4);
    release?.();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    expect(sampler.health().find((h) => h.topic === 'cpu')?.ok).toBe(true);
    expect(healthChanges.at(-1)?.every((h) => h.ok)).toBe(true);
    sampler.stop();
  });

  it('rejects samples with NaN, infinite or negative numbers instead of publishing them', async () => {
    const sampler = start([collector('disk', (t) => ({ t, read: Number.NaN, write: -5 }))]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(published).toHaveLength(0);
    expect(sampler.health()[0]).toMatchObject({ ok: false, error: 'returned an invalid value: read: NaN' });
    sampler.stop();
  });

  it('publishes nothing, and reports no failure, for a null sample', async () => {
    const sampler = start([collector('disk', () => null)]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(published).toHaveLength(0);
    expect(sampler.health()[0]?.ok).toBe(true);
    sampler.stop();
  });

  it('samples a collector at its idle cadence while its topic is unwatched, at once and at its own cadence when watched', async () => {
    const processes: Collector = { ...collector('processes', (t) => ({ t, count: 1, top: [] }), 5000), idleCadenceMs: 60_000 };
    const sampler = new Sampler([processes], {
      timeoutMs: 500,
      publish: (topic, sample) => published.push({ topic, sample }),
      onHealthChange: () => {},
    });
    sampler.setWatched('processes', false);
    sampler.start();
    await vi.advanceTimersByTimeAsync(120_000);
    // One at start (a slow cadence samples at once), then one a minute.
    expect(published).toHaveLength(3);
    sampler.setWatched('processes', true);
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toHaveLength(4); // a fresh sample for the page that just opened
    await vi.advanceTimersByTimeAsync(30_000);
    expect(published).toHaveLength(10);
    sampler.setWatched('processes', false);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(published.length).toBeLessThanOrEqual(11);
    sampler.stop();
  });

  it('ignores setWatched for a collector without an idle cadence', async () => {
    const sampler = start([collector('disk', diskAt, 1000)]);
    sampler.setWatched('disk', false);
    await vi.advanceTimersByTimeAsync(3000);
    expect(published).toHaveLength(3);
    sampler.stop();
  });

  it('stops sampling after stop()', async () => {
    const sampler = start([collector('disk', diskAt)]);
    await vi.advanceTimersByTimeAsync(2000);
    sampler.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(published).toHaveLength(2);
  });
});

describe('Sampler tick lateness', () => {
  it('tells a collector how late its tick fired when the loop was blocked across it', async () => {
    const lateness: (number | undefined)[] = [];
    let firstAt = 0;
    const sampler = new Sampler(
      [
        {
          topic: 'disk',
          source: 'test',
          cadenceMs: 100,
          sample: (t, lateMs) => {
            if (lateness.length === 0) firstAt = performance.now();
            lateness.push(lateMs);
            return diskAt(t);
          },
        },
      ],
      { timeoutMs: 1000, publish: () => {}, onHealthChange: () => {} },
    );
    sampler.start();
    try {
      await vi.waitFor(() => expect(lateness).toHaveLength(1), { timeout: 10_000, interval: 1 });
      // The next tick is due 100 ms after the first: block the loop until 400 ms after it.
      while (performance.now() < firstAt + 400) {
        // a synchronous stall
      }
      await vi.waitFor(() => expect(lateness).toHaveLength(2), { timeout: 10_000, interval: 1 });
      expect(lateness[1]).toBeGreaterThanOrEqual(250);
      // Milliseconds: only a unit slip would cross this.
      expect(lateness[1]).toBeLessThan(60_000);
    } finally {
      sampler.stop();
    }
  });
});

describe('findInvalidNumber', () => {
  it('names the path of the first bad number', () => {
    expect(findInvalidNumber({ a: 1, b: [0, 2, Number.POSITIVE_INFINITY] }, true)).toBe('b[2]: Infinity');
    expect(findInvalidNumber({ a: { c: -1 } }, true)).toBe('a.c: -1');
    expect(findInvalidNumber({ a: { c: -1 } }, false)).toBeNull();
    expect(findInvalidNumber({ name: 'eth0', rx: 0 }, true)).toBeNull();
  });
});
