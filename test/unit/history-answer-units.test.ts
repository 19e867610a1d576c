import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Merger } from '../../server/history/block.js';
import { columnsOf } from '../../server/history/block-columns.js';
import { queryRange, UNIT_BUCKETS } from '../../server/history/query.js';
import { HistoryStore } from '../../server/history/store.js';
import { chooseTier } from '../../server/history/tiers.js';
import { UnitCache } from '../../server/history/unit-cache.js';
import type { CpuSample } from '../../server/protocol.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 10, 1, 0);
const RETENTION = { raw: 6 * HOUR, '1m': 2 * 24 * HOUR, '10m': 3 * 24 * HOUR, '1h': 40 * 24 * HOUR };
const roots: string[] = [];
const stores: HistoryStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function open(dir: string, clock: { now: number }, units?: UnitCache): HistoryStore {
  const store = HistoryStore.open({ dir, retention: RETENTION, memoryMs: HOUR, now: () => clock.now, log: () => {}, units });
  stores.push(store);
  return store;
}

/** cpu every 20 s for 30 hours with a 50-minute gap; a second core from hour 12 and a number only some hours have. */
async function written(clock: { now: number }, units?: UnitCache): Promise<HistoryStore> {
  const root = mkdtempSync(join(tmpdir(), 'pulseboard-units-'));
  roots.push(root);
  const dir = join(root, 'data');
  const store = open(dir, clock, units);
  for (let t = T0; t < T0 + 30 * HOUR; t += 20_000) {
    clock.now = t;
    if (t >= T0 + 20 * HOUR && t < T0 + 20 * HOUR + 50 * MINUTE) continue;
    const total = ((t / 1000) * 7) % 97;
    const cores = t >= T0 + 12 * HOUR ? [total, total / 2] : [total];
    const extra = Math.floor(t / HOUR) % 5 === 0 ? { steal: total / 3 } : {};
    store.record('cpu', { t, total, user: total / 2, system: total / 4, iowait: 0, cores, load: [1, 1, 1], ...extra } as CpuSample);
    if (t % HOUR === 0) await store.tick();
  }
  clock.now = T0 + 30 * HOUR + 30 * MINUTE;
  await store.tick();
  return store;
}

/** The answer as merging every row of the range in one pass gives it (no units, nothing kept), as it goes on the wire. */
function mergedAtOnce(store: HistoryStore, from: number, to: number, points: number, now: number) {
  const choice = chooseTier(from, to, points, 20_000, store.retention, now);
  const everySample = choice.tier === 'raw' && choice.step === choice.tierStep;
  const merger = new Merger('cpu', everySample ? null : choice.step, choice.tier !== 'raw');
  store.eachSlice(choice.tier, ['cpu'], from, to, (_topic, { block, start, end }) => merger.add(block, start, end));
  if (merger.length === 0)
    return JSON.parse(
      JSON.stringify({ tier: choice.tier, step: choice.step, series: {}, ...(everySample ? {} : { bands: { min: {}, max: {} } }) }),
    );
  const block = merger.block();
  const coarse = choice.tier !== 'raw';
  const answer = everySample
    ? { tier: choice.tier, step: choice.step, series: { cpu: columnsOf(block, 'value', coarse) } }
    : {
        tier: choice.tier,
        step: choice.step,
        series: { cpu: columnsOf(block, 'value', coarse) },
        bands: { min: { cpu: columnsOf(block, 'min', coarse) }, max: { cpu: columnsOf(block, 'max', coarse) } },
      };
  return JSON.parse(JSON.stringify(answer));
}

const RANGES: [number, number, number][] = [
  // back from now, span, points: 1m rows merged by 2 and by 6, 10m rows, raw merged by a few seconds, ranges across the gap.
  [0, 24 * HOUR, 720],
  [0, 24 * HOUR, 250],
  // A start that is not on the step: the first bucket begins before it, and has only the rows from it on.
  [0, 24 * HOUR + 4 * MINUTE, 720],
  [0, 28 * HOUR, 1000],
  [3 * HOUR + 7 * MINUTE, 12 * HOUR, 100],
  [0, 5 * HOUR, 1200],
  [10 * HOUR + 1234, 3 * HOUR, 400],
  // A range that ends in the future: its units past the sealed hours fill up as samples come.
  [-40 * MINUTE, 6 * HOUR, 360],
];

/** The store's answers to every range back from `end`, as they go on the wire. */
function answers(store: HistoryStore, now: number, end = now) {
  return RANGES.map(([back, span, points]) =>
    JSON.parse(JSON.stringify(queryRange(store, { topics: ['cpu'], from: end - back - span, to: end - back, points }, 20_000, now))),
  );
}

function expected(store: HistoryStore, now: number, end = now) {
  return RANGES.map(([back, span, points]) => mergedAtOnce(store, end - back - span, end - back, points, now));
}

describe('answer columns of sealed units, kept between queries', () => {
  it('give the same answers as merging every row of the range at once, cold and warm, across gaps and paths only some rows have', async () => {
    const clock = { now: T0 };
    const store = await written(clock);
    expect(answers(store, clock.now)).toEqual(expected(store, clock.now));
    expect(store.units.size).toBeGreaterThan(RANGES.length);
    // Warm: the same ranges from the kept units.
    expect(answers(store, clock.now)).toEqual(expected(store, clock.now));
    // The open hour grows: what is not sealed is merged again at every query.
    for (let t = clock.now; t < clock.now + 10 * MINUTE; t += 20_000)
      store.record('cpu', { t, total: 50, user: 1, system: 1, iowait: 0, cores: [50, 50], load: [1, 1, 1] } as CpuSample);
    clock.now += 10 * MINUTE;
    expect(answers(store, clock.now)).toEqual(expected(store, clock.now));
    const day = queryRange(store, { topics: ['cpu'], from: clock.now - 24 * HOUR, to: clock.now, points: 720 }, 20_000, clock.now);
    expect(day).toMatchObject({ tier: '1m', step: 2 * MINUTE });
    // The gap stays a gap: no row in its 50 minutes.
    const times = day.series.cpu?.t as number[];
    expect(times.filter((t) => t >= T0 + 20 * HOUR + 2 * MINUTE && t < T0 + 20 * HOUR + 48 * MINUTE)).toEqual([]);
    expect(times.length).toBeGreaterThan(2 * UNIT_BUCKETS);
    // A range wholly in the past (a zoom, a move back) is merged in one pass and keeps nothing.
    store.units.clear();
    const past = queryRange(store, { topics: ['cpu'], from: T0 + 2 * HOUR, to: T0 + 20 * HOUR, points: 600 }, 20_000, clock.now);
    expect(past.series.cpu?.t.length).toBeGreaterThan(2 * UNIT_BUCKETS);
    expect(store.units.size).toBe(0);
  });

  it('stay within their budget of bytes, and are let go when retention deletes a file', async () => {
    const clock = { now: T0 };
    const small = new UnitCache(40_000);
    const store = await written(clock, small);
    expect(answers(store, clock.now)).toEqual(expected(store, clock.now));
    expect(small.size).toBeGreaterThan(0);
    expect(small.bytes).toBeLessThanOrEqual(40_000);
    expect(answers(store, clock.now)).toEqual(expected(store, clock.now));

    // A day on: retention deletes every raw file, and the answers of the same ranges leave out what it deleted.
    const end = clock.now;
    clock.now = T0 + 54 * HOUR;
    await store.tick();
    expect(small.size).toBe(0);
    const after = answers(store, clock.now, end);
    expect(after).toEqual(expected(store, clock.now, end));
    expect(after.filter((answer) => answer.series.cpu).length).toBeGreaterThan(2);
  });
});
