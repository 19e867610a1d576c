import { describe, expect, it } from 'vitest';
import { type Block, blockOfChunk, blockOfRows, mergeBlock, RowColumns } from '../../server/history/block.js';
import { columnsOf, type Side } from '../../server/history/block-columns.js';
import { flatten, unflatten } from '../../server/history/flat.js';
import {
  bucketsAt,
  type LatencyBuckets,
  mergeBuckets,
  packBuckets,
  percentileOf,
  summaryAt,
  summaryOf,
  toStoredPrecision,
} from '../../server/history/latency-buckets.js';
import type { RawRow } from '../../server/history/rollup.js';
import { decodeRaw, encodeBlock } from '../../server/history/segment.js';
import { LatencyHistogram } from '../../server/lib/latency.js';
import type { CpuSample, RequestsSample } from '../../server/protocol.js';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const T0 = Date.UTC(2026, 10, 25, 10);

function cpuRows(count: number, next: () => number): RawRow[] {
  return Array.from({ length: count }, (_, i) => {
    const total = Math.round(next() * 1000) / 10;
    const sample: CpuSample = {
      t: T0 + i * 1000,
      total,
      user: total / 2,
      system: total / 4,
      iowait: 0,
      cores: [total, 100 - total],
      load: [next(), 0.5, 0.25],
    };
    return { sample };
  });
}

/** Requests ticks with random latencies recorded into a real HdrHistogram; the raw latencies are kept for the brute force. */
function requestRows(count: number, next: () => number): { rows: RawRow[]; latencies: number[][] } {
  const rows: RawRow[] = [];
  const latencies: number[][] = [];
  const histogram = new LatencyHistogram(3);
  for (let i = 0; i < count; i++) {
    const n = Math.floor(next() * 20);
    const tick = Array.from({ length: n }, () => Math.round((next() < 0.05 ? 200 + next() * 800 : 0.2 + next() * 20) * 1000) / 1000);
    histogram.reset();
    for (const ms of tick) histogram.record(ms);
    const sample: RequestsSample = {
      t: T0 + i * 1000,
      source: 'self',
      count: n,
      rate: n,
      inFlight: 0,
      status: { '1xx': 0, '2xx': n, '3xx': 0, '4xx': 0, '5xx': 0, aborted: 0 },
      latency: n === 0 ? { p50: 0, p90: 0, p99: 0, max: 0 } : { ...histogram.summary(), max: Math.max(...tick) },
      bytes: n * 100,
      window: { ms: 60_000, count: 0, errors: 0, latency: { p50: 0, p90: 0, p99: 0, max: 0 } },
      routes: [],
    };
    rows.push(n > 0 ? { sample, buckets: histogram.buckets() } : { sample });
    latencies.push(tick);
  }
  return { rows, latencies };
}

/** Row i of a block as the API shows it: the mean (or sum), the min or the max, in the sample's shape. */
function rowOf<S>(block: Block, i: number, side: Side = 'value'): S {
  return Object.fromEntries(Object.entries(columnsOf(block, side)).map(([key, values]) => [key, values[i]])) as S;
}

function shown<S>(block: Block, i: number): { mean: S; min: S; max: S } {
  return { mean: rowOf<S>(block, i), min: rowOf<S>(block, i, 'min'), max: rowOf<S>(block, i, 'max') };
}

/** The nearest-rank percentile of raw values, the definition HdrHistogram approximates. */
function bruteForcePercentile(values: number[], percentile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)] as number;
}

describe('tier rollup', () => {
  it('keeps min, max and mean of every number per minute and per hour, as a brute force over the raw samples does', () => {
    const rows = cpuRows(3600, random(7));
    const minutes = mergeBlock(blockOfRows('cpu', rows), 60_000);
    const hours = mergeBlock(minutes, 3_600_000);
    expect(minutes.length).toBe(60);
    expect(hours.length).toBe(1);
    for (const [step, block] of [
      [60_000, minutes],
      [3_600_000, hours],
    ] as const) {
      for (let i = 0; i < block.length; i++) {
        const t = block.t[i] as number;
        const inside = rows.map((row) => row.sample as CpuSample).filter((s) => s.t >= t && s.t < t + step);
        const row = shown<CpuSample>(block, i);
        const totals = inside.map((s) => s.total);
        expect(block.n[i]).toBe(inside.length);
        expect(row.min.total).toBe(Math.min(...totals));
        expect(row.max.total).toBe(Math.max(...totals));
        expect(row.mean.total).toBeCloseTo(totals.reduce((a, b) => a + b, 0) / totals.length, 3);
        expect(row.max.cores[1]).toBe(Math.max(...inside.map((s) => s.cores[1] as number)));
        expect(row.min.load[0]).toBe(Math.min(...inside.map((s) => s.load[0])));
      }
    }
  });

  it('keeps a one-second spike in the hour row max', () => {
    const rows = cpuRows(3600, () => 0.02);
    (rows[1234]?.sample as CpuSample).total = 100;
    const hour = mergeBlock(mergeBlock(blockOfRows('cpu', rows), 60_000), 3_600_000);
    expect(rowOf<CpuSample>(hour, 0, 'max').total).toBe(100);
  });

  it('sums counts and bytes, and takes latency percentiles from the merged histograms, not a mean of per-tick percentiles', () => {
    const { rows, latencies } = requestRows(3600, random(11));
    const minutes = mergeBlock(blockOfRows('requests', rows), 60_000);
    const hours = mergeBlock(minutes, 3_600_000);
    for (const [step, block] of [
      [60_000, minutes],
      [3_600_000, hours],
    ] as const) {
      for (let i = 0; i < block.length; i++) {
        const first = ((block.t[i] as number) - T0) / 1000;
        const inside = latencies.slice(first, first + step / 1000);
        const all = inside.flat();
        const mean = rowOf<RequestsSample>(block, i);
        expect(mean.count).toBe(all.length);
        expect(mean.status['2xx']).toBe(all.length);
        expect(mean.bytes).toBe(all.length * 100);
        if (all.length === 0) continue;
        for (const p of [50, 90, 99] as const) {
          const exact = bruteForcePercentile(all, p);
          // HdrHistogram with 3 significant digits: within 0.1 %, plus the 1 µs of its unit and our rounding.
          expect(Math.abs(mean.latency[`p${p}`] - exact)).toBeLessThanOrEqual(exact * 0.001 + 0.002);
        }
        expect(mean.latency.max).toBe(Math.max(...all));
      }
    }
    // The mean of per-second p99s is not the hour's p99: the test would not tell them apart otherwise.
    const perTickP99 = rows.filter((row) => row.buckets).map((row) => (row.sample as RequestsSample).latency.p99);
    const meanOfP99 = perTickP99.reduce((a, b) => a + b, 0) / perTickP99.length;
    const hourP99 = rowOf<RequestsSample>(hours, 0).latency.p99;
    expect(Math.abs(hourP99 - meanOfP99)).toBeGreaterThan(10);
  });

  it('reads p50 / p90 / p99 of packed rows in place as summaryOf does of each row', () => {
    const next = random(5);
    const rows = Array.from({ length: 300 }, (_, r) => {
      if (r % 7 === 0) return null;
      const width = 1 + Math.floor(next() * 40);
      const v = Array.from({ length: width }, (_, k) => 100 + k * 37 + Math.floor(next() * 30));
      const c = v.map(() => (r % 11 === 0 ? 0 : Math.floor(next() * 50)));
      return { v, c };
    });
    const packed = packBuckets(rows) as NonNullable<ReturnType<typeof packBuckets>>;
    for (const [r, row] of rows.entries()) expect(summaryAt(packed, r)).toEqual(row ? summaryOf(row) : null);
  });

  it('merges latency buckets by adding counts per bucket', () => {
    const merged = mergeBuckets([
      { v: [100, 200], c: [1, 2] },
      { v: [150, 200], c: [4, 1] },
    ]);
    expect(merged).toEqual({ v: [100, 150, 200], c: [1, 4, 3] });
    expect(percentileOf(merged as never, 50)).toBe(0.15);
    expect(percentileOf(merged as never, 100)).toBe(0.2);
  });
});

describe('the open hour as growing columns', () => {
  it('hands out blocks that stay as they were while rows are appended and the columns grow; a path is NaN where a row lacks it', () => {
    const columns = new RowColumns('requests');
    const buckets = (i: number): LatencyBuckets => ({ v: [1000 + i, 2000 + i], c: [i + 1, 1] });
    const row = (i: number) => ({ t: T0 + i * 1000, ...(i < 200 ? { count: i } : {}), ...(i >= 50 ? { inFlight: i } : {}) });
    for (let i = 0; i < 10; i++) columns.push(T0 + i * 1000, row(i), buckets(i));
    const early = columns.block();
    const earlyCopy = { t: Array.from(early.t), count: Array.from(early.value[0] as Float64Array), buckets: bucketsAt(early.buckets, 9) };
    // Past the first capacity (64 rows) several times, with a path that begins at row 50 and one that ends at row 200.
    for (let i = 10; i < 300; i++) columns.push(T0 + i * 1000, row(i), i % 3 === 0 ? undefined : buckets(i));
    expect(Array.from(early.t)).toEqual(earlyCopy.t);
    expect(Array.from(early.value[0] as Float64Array)).toEqual(earlyCopy.count);
    expect(bucketsAt(early.buckets, 9)).toEqual(earlyCopy.buckets);
    expect(early.length).toBe(10);
    const late = columns.block();
    expect(late.length).toBe(300);
    expect(columns.block()).toBe(late);
    expect(late.paths).toEqual(['count', 'inFlight']);
    expect(Array.from(late.value[0] as Float64Array)).toEqual(Array.from({ length: 300 }, (_, i) => (i < 200 ? i : Number.NaN)));
    const inFlight = Array.from(late.value[1] as Float64Array);
    expect(inFlight.slice(0, 50).every(Number.isNaN)).toBe(true);
    expect(inFlight.slice(50)).toEqual(Array.from({ length: 250 }, (_, i) => i + 50));
    expect(Array.from(late.n)).toEqual(new Array(300).fill(1));
    for (const i of [0, 9, 63, 64, 150, 299]) expect(bucketsAt(late.buckets, i)).toEqual(i >= 10 && i % 3 === 0 ? null : buckets(i));
  });
});

describe('the stored shape', () => {
  it('flattens a sample to numeric paths and rebuilds it exactly', () => {
    const sample = {
      t: 5,
      total: 1.5,
      cores: [1, 2],
      status: { '2xx': 3 },
      latency: { p50: 0.1 },
      source: 'self',
      mounts: [{ mount: '/', size: 1 }],
    };
    const flat = flatten(sample);
    expect([...flat.numbers.keys()]).toEqual(['total', 'cores.0', 'cores.1', 'status.2xx', 'latency.p50']);
    expect(unflatten(5, flat.numbers, flat.others)).toEqual(sample);
  });

  it('encodes raw and downsampled rows column by column and decodes them unchanged; latency buckets only in downsampled rows, at 2 significant digits', () => {
    const { rows } = requestRows(120, random(3));
    const block = blockOfRows('requests', rows);
    const chunk = JSON.parse(JSON.stringify(encodeBlock(block, 'raw', T0, T0 + 3_600_000)));
    const raw = decodeRaw(chunk);
    expect(raw.map((row) => row.sample)).toEqual(rows.map((row) => row.sample));
    expect(chunk.buckets).toBeUndefined();
    expect(columnsOf(blockOfChunk(chunk), 'value')).toEqual(columnsOf(block, 'value'));
    const minutes = mergeBlock(block, 60_000);
    const back = blockOfChunk(JSON.parse(JSON.stringify(encodeBlock(minutes, '1m', T0, T0 + 3_600_000))));
    // Means are written with 6 significant digits, so they come back as shown; latency from 2-digit buckets.
    const withoutLatency = (columns: Record<string, unknown[]>) => ({ ...columns, latency: undefined });
    for (const side of ['value', 'min', 'max'] as const)
      expect(withoutLatency(columnsOf(back, side))).toEqual(withoutLatency(columnsOf(minutes, side)));
    for (let i = 0; i < minutes.length; i++) {
      const stored = rowOf<RequestsSample>(back, i).latency;
      const exact = rowOf<RequestsSample>(minutes, i).latency;
      expect(stored.max).toBe(exact.max);
      for (const p of ['p50', 'p90', 'p99'] as const) expect(Math.abs(stored[p] - exact[p])).toBeLessThanOrEqual(exact[p] * 0.0079 + 0.002);
    }
  });

  it('keeps stored latency buckets within 1 % of the exact percentile, merged or not', () => {
    const { rows, latencies } = requestRows(600, random(5));
    const minutes = mergeBlock(blockOfRows('requests', rows), 60_000);
    const stored = blockOfChunk(JSON.parse(JSON.stringify(encodeBlock(minutes, '1m', T0, T0 + 3_600_000))));
    const storedAll = bucketsAt(mergeBlock(stored, 3_600_000).buckets, 0) as LatencyBuckets;
    const exactAll = bucketsAt(mergeBlock(minutes, 3_600_000).buckets, 0) as LatencyBuckets;
    expect(storedAll.v.length).toBeLessThan(exactAll.v.length);
    expect(storedAll).toEqual(toStoredPrecision(exactAll));
    const all = latencies.flat();
    for (const p of [50, 90, 99, 100]) {
      const exact = bruteForcePercentile(all, p);
      expect(Math.abs(percentileOf(storedAll, p) - exact)).toBeLessThanOrEqual(exact * 0.0079 + 0.002);
    }
  });
});
