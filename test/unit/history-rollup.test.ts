import { describe, expect, it } from 'vitest';
import { flatten, unflatten } from '../../server/history/flat.js';
import { mergeBuckets, percentileOf } from '../../server/history/latency-buckets.js';
import { present, type RawRow, rollup, rollupRaw } from '../../server/history/rollup.js';
import { decodeAggregates, decodeRaw, encodeAggregates, encodeRaw } from '../../server/history/segment.js';
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

/** The nearest-rank percentile of raw values, the definition HdrHistogram approximates. */
function bruteForcePercentile(values: number[], percentile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)] as number;
}

describe('tier rollup', () => {
  it('keeps min, max and mean of every number per minute and per hour, as a brute force over the raw samples does', () => {
    const rows = cpuRows(3600, random(7));
    const minutes = rollupRaw(rows, 60_000);
    const hours = rollup(minutes, 3_600_000);
    expect(minutes).toHaveLength(60);
    expect(hours).toHaveLength(1);
    for (const [step, buckets] of [
      [60_000, minutes],
      [3_600_000, hours],
    ] as const) {
      for (const bucket of buckets) {
        const inside = rows.map((row) => row.sample as CpuSample).filter((s) => s.t >= bucket.t && s.t < bucket.t + step);
        const shown = present('cpu', bucket);
        const totals = inside.map((s) => s.total);
        expect(bucket.n).toBe(inside.length);
        expect((shown.min as unknown as CpuSample).total).toBe(Math.min(...totals));
        expect((shown.max as unknown as CpuSample).total).toBe(Math.max(...totals));
        expect((shown.mean as unknown as CpuSample).total).toBeCloseTo(totals.reduce((a, b) => a + b, 0) / totals.length, 3);
        expect((shown.max as unknown as CpuSample).cores[1]).toBe(Math.max(...inside.map((s) => s.cores[1] as number)));
        expect((shown.min as unknown as CpuSample).load[0]).toBe(Math.min(...inside.map((s) => s.load[0])));
      }
    }
  });

  it('keeps a one-second spike in the hour row max', () => {
    const rows = cpuRows(3600, () => 0.02);
    (rows[1234]?.sample as CpuSample).total = 100;
    const [hour] = rollup(rollupRaw(rows, 60_000), 3_600_000);
    expect((present('cpu', hour as never).max as unknown as CpuSample).total).toBe(100);
  });

  it('sums counts and bytes, and takes latency percentiles from the merged histograms, not a mean of per-tick percentiles', () => {
    const { rows, latencies } = requestRows(3600, random(11));
    const hours = rollup(rollupRaw(rows, 60_000), 3_600_000);
    const minutes = rollupRaw(rows, 60_000);
    for (const [step, buckets] of [
      [60_000, minutes],
      [3_600_000, hours],
    ] as const) {
      for (const bucket of buckets) {
        const first = (bucket.t - T0) / 1000;
        const inside = latencies.slice(first, first + step / 1000);
        const all = inside.flat();
        const mean = present('requests', bucket).mean as unknown as RequestsSample;
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
    const hourP99 = (present('requests', hours[0] as never).mean as unknown as RequestsSample).latency.p99;
    expect(Math.abs(hourP99 - meanOfP99)).toBeGreaterThan(10);
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

  it('encodes raw and downsampled rows column by column and decodes them unchanged', () => {
    const { rows } = requestRows(120, random(3));
    const raw = decodeRaw(JSON.parse(JSON.stringify(encodeRaw('requests', T0, T0 + 3_600_000, rows))));
    expect(raw).toEqual(rows);
    const minutes = rollupRaw(rows, 60_000);
    const back = decodeAggregates(JSON.parse(JSON.stringify(encodeAggregates('requests', '1m', T0, T0 + 3_600_000, minutes))));
    // Means are written with 6 significant digits.
    const sixDigits = (value: unknown): unknown =>
      typeof value === 'number'
        ? Number(value.toPrecision(6))
        : Array.isArray(value)
          ? value.map(sixDigits)
          : value && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 't' ? v : sixDigits(v)]))
            : value;
    expect(back.map((row) => present('requests', row).mean)).toEqual(minutes.map((row) => sixDigits(present('requests', row).mean)));
    expect(back.map((row) => row.buckets)).toEqual(minutes.map((row) => row.buckets));
  });
});
