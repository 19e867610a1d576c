import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { queryRange } from '../../server/history/query.js';
import { SegmentCache } from '../../server/history/segment-cache.js';
import { HistoryStore } from '../../server/history/store.js';
import { DEFAULT_RETENTION } from '../../server/history/tiers.js';
import { HistoryAnswers } from '../../server/http/history.js';
import { fullCollection, MemorySettle, SETTLE_QUIET_MS, SETTLE_SPACING_MS } from '../../server/lib/memory-settle.js';
import type { CpuSample } from '../../server/protocol.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('a full collection once bulk work is over', () => {
  it('collects once, quiet ms after the last of a burst', () => {
    vi.useFakeTimers();
    let collected = 0;
    const settle = new MemorySettle(
      () => collected++,
      () => Date.now(),
    );
    for (let i = 0; i < 5; i++) {
      settle.afterBulkWork();
      vi.advanceTimersByTime(1000);
    }
    expect(collected).toBe(0);
    vi.advanceTimersByTime(SETTLE_QUIET_MS - 1000);
    expect(collected).toBe(1);
    vi.advanceTimersByTime(10 * SETTLE_SPACING_MS);
    expect(collected).toBe(1);
    expect(settle.count).toBe(1);
  });

  it('collects at most once per spacing, however often bulk work comes', () => {
    vi.useFakeTimers();
    let collected = 0;
    const settle = new MemorySettle(
      () => collected++,
      () => Date.now(),
    );
    // Work every 6 s for two minutes: more than quiet apart each time, so each would collect on its own.
    for (let s = 0; s < 120; s += 6) {
      settle.afterBulkWork();
      vi.advanceTimersByTime(6000);
    }
    vi.advanceTimersByTime(SETTLE_SPACING_MS);
    expect(collected).toBeGreaterThanOrEqual(3);
    expect(collected).toBeLessThanOrEqual(Math.ceil(120_000 / SETTLE_SPACING_MS) + 1);
  });

  it('holds no timer that keeps the process alive, and none after close', () => {
    vi.useFakeTimers();
    let collected = 0;
    const settle = new MemorySettle(
      () => collected++,
      () => Date.now(),
    );
    settle.afterBulkWork();
    expect(vi.getTimerCount()).toBe(1);
    settle.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(SETTLE_SPACING_MS);
    expect(collected).toBe(0);
  });

  it('runs the releases passed with the burst just before its collection, each once, and none twice', () => {
    vi.useFakeTimers();
    const events: string[] = [];
    const settle = new MemorySettle(
      () => events.push('collect'),
      () => Date.now(),
    );
    const release = () => events.push('release');
    settle.afterBulkWork(release);
    settle.afterBulkWork(release);
    settle.afterBulkWork();
    vi.advanceTimersByTime(SETTLE_QUIET_MS);
    expect(events).toEqual(['release', 'collect']);
    // The next burst passes none: the release is not kept from the last.
    settle.afterBulkWork();
    vi.advanceTimersByTime(SETTLE_SPACING_MS);
    expect(events).toEqual(['release', 'collect', 'collect']);
  });

  it('does nothing where no full collection can be had', () => {
    vi.useFakeTimers();
    const settle = new MemorySettle(null);
    settle.afterBulkWork();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("is V8's own full collection on this Node, without --expose-gc on the command line: garbage held by nothing goes", () => {
    const collect = fullCollection();
    expect(collect).toBeTypeOf('function');
    let garbage: number[][] | null = Array.from({ length: 200 }, () => Array.from({ length: 10_000 }, (_, i) => i + 0.5));
    const withGarbage = process.memoryUsage().heapUsed;
    garbage = null;
    collect?.();
    expect(garbage).toBeNull();
    // 200 x 10 000 doubles are ~16 MB: a collection that ran frees most of it.
    expect(withGarbage - process.memoryUsage().heapUsed).toBeGreaterThan(8 * 2 ** 20);
  });
});

describe('the work that reports itself as bulk', () => {
  it('each history answer built', async () => {
    let reported = 0;
    const answers = new HistoryAnswers(undefined, () => reported++);
    await answers.answer('a', () => ({ a: 1 }), false);
    await answers.answer('a', () => ({ a: 1 }), false); // kept: not built again
    await answers.answer('b', () => ({ b: 1 }), true);
    expect(reported).toBe(2);
  });

  it('a built answer passes the release of the answers kept: after it, the same key is built again, to the same bytes', async () => {
    const releases: (() => void)[] = [];
    const answers = new HistoryAnswers(undefined, (release) => releases.push(release));
    let builds = 0;
    const build = () => ({ n: 1, built: ++builds > 0 });
    const first = await answers.answer('k', build, true);
    expect(answers.bytesKept).toBeGreaterThan(0);
    expect(releases).toHaveLength(1);
    releases[0]?.();
    expect(answers.bytesKept).toBe(0);
    const again = await answers.answer('k', build, true);
    expect(builds).toBe(2);
    expect(Buffer.from(again as Uint8Array).equals(Buffer.from(first as Uint8Array))).toBe(true);
  });

  it("a query's reading passes the release of the decoded segments: after it the cache is empty, and the answer the same", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-settle-'));
    try {
      const hour = 3_600_000;
      const clock = { now: Date.UTC(2026, 10, 1, 0) };
      const cache = new SegmentCache();
      const releases = new Set<() => void>();
      const store = HistoryStore.open({
        dir,
        retention: DEFAULT_RETENTION,
        memoryMs: hour,
        now: () => clock.now,
        log: () => {},
        cache,
        afterBulkWork: (release) => release && releases.add(release),
      });
      try {
        const from = clock.now;
        for (let t = from; t < from + 3 * hour; t += 10_000) {
          clock.now = t;
          store.record('cpu', { t, total: t % 97, user: 1, system: 0, iowait: 0, cores: [1], load: [0, 0, 0] } as CpuSample);
          if (t % 60_000 === 0) await store.tick();
        }
        await store.tick();
        const query = { topics: ['cpu'] as const, from, to: clock.now, points: 100 };
        const before = JSON.stringify(queryRange(store, query, 10_000, clock.now));
        expect(cache.bytes).toBeGreaterThan(0);
        expect(releases.size).toBe(1);
        for (const release of releases) release();
        expect(cache.bytes).toBe(0);
        expect(JSON.stringify(queryRange(store, query, 10_000, clock.now))).toBe(before);
        expect(cache.bytes).toBeGreaterThan(0);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the start's columns of the journal's hour, once they are all built", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-settle-'));
    try {
      const now = Date.now();
      const first = HistoryStore.open({ dir, retention: DEFAULT_RETENTION, memoryMs: 3_600_000, log: () => {} });
      first.start();
      const hourStart = Math.floor(now / 3_600_000) * 3_600_000;
      for (let t = hourStart; t < now; t += 1000) {
        const sample: CpuSample = { t, total: 1, user: 1, system: 0, iowait: 0, cores: [1], load: [0, 0, 0] };
        first.record('cpu', sample);
      }
      await first.tick();
      first.close();

      let reported = 0;
      const second = HistoryStore.open({
        dir,
        retention: DEFAULT_RETENTION,
        memoryMs: 3_600_000,
        log: () => {},
        afterBulkWork: () => reported++,
      });
      second.start();
      try {
        const deadline = Date.now() + 10_000;
        while (reported === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(reported).toBe(1);
      } finally {
        second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
