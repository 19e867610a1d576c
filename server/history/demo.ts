import { parseArgs } from 'node:util';
import { LatencyHistogram, ZERO_LATENCY } from '../lib/latency.js';
import type {
  CpuSample,
  DiskSample,
  MemorySample,
  NetworkSample,
  ProcessSample,
  RequestsSample,
  SampleByTopic,
  Topic,
} from '../protocol.js';
import { type LatencyBuckets, summaryOf } from './latency-buckets.js';
import { HistoryStore } from './store.js';
import { DEFAULT_RETENTION, type Retention } from './tiers.js';

export interface DemoOptions {
  days: number;
  dir: string;
  intervalMs: number;
  seed: number;
  retention?: Retention;
  /** The end of the history written (now, by default). */
  end?: number;
  /** One sample per this before the raw tier's reach (10 s by default: only their 1m and 1h rows stay). */
  oldStepMs?: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Older than the raw tier keeps, one sample per this: their raw rows would be deleted anyway, only their rollups stay. */
const OLD_STEP_MS = 10_000;
/** The server was down for this long, this long before the end: the charts must show a gap there. */
export const DEMO_GAP = { beforeEndMs: 5 * HOUR, lengthMs: 40 * 60_000 };

/** `pulseboard demo --days 30 --data-dir <dir> [--interval 1s] [--seed 1]`; throws a one-line Error for bad input. */
export function parseDemoArgs(argv: string[]): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    options: { days: { type: 'string' }, 'data-dir': { type: 'string' }, interval: { type: 'string' }, seed: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const days = Number(values.days ?? '30');
  if (!Number.isInteger(days) || days < 1 || days > 400)
    throw new Error(`--days "${values.days}": expected a whole number of days from 1 to 400`);
  const dir = values['data-dir'];
  if (!dir || dir === 'none') throw new Error('demo needs --data-dir <dir> to write to');
  const intervalText = values.interval ?? '1000';
  const intervalMs = /^\d+$/.test(intervalText)
    ? Number(intervalText)
    : /^\d+s$/.test(intervalText)
      ? Number(intervalText.slice(0, -1)) * 1000
      : Number.NaN;
  if (!(intervalMs >= 100 && intervalMs <= 60_000))
    throw new Error(`--interval "${intervalText}": expected 100 to 60000 (ms) or 1s to 60s`);
  const seed = Number(values.seed ?? '1');
  if (!Number.isInteger(seed)) throw new Error(`--seed "${values.seed}": expected a whole number`);
  return { days, dir, intervalMs, seed };
}

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    // xorshift32: fast, repeatable.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * Synthetic samples of a plausible web server: load that follows the time of day (busiest at 14:00 UTC),
 * noise, a few short spikes to 100 % CPU a day, memory that creeps up and drops at each restart, and
 * request latencies drawn per tick into a real HdrHistogram.
 */
export class DemoHost {
  private readonly next: () => number;
  private readonly histogram = new LatencyHistogram(3);
  private spikeUntil = 0;

  constructor(seed: number) {
    this.next = random(seed);
  }

  /** 0 at night, 1 at the afternoon peak. */
  private load(t: number): number {
    const hour = (t % DAY) / HOUR;
    return 0.5 + 0.5 * Math.sin(((hour - 8) / 24) * 2 * Math.PI);
  }

  samples(t: number, stepMs: number, sinceRestartMs: number): { [T in Topic]?: SampleByTopic[T] } & { buckets?: LatencyBuckets } {
    const next = this.next;
    const load = this.load(t);
    if (t > this.spikeUntil && next() < stepMs / (4 * HOUR)) this.spikeUntil = t + 2000 + next() * 8000;
    const spiking = t <= this.spikeUntil;
    const total = spiking ? 100 : round1(Math.min(100, 5 + 55 * load + next() * 10));
    const cpu: CpuSample = {
      t,
      total,
      user: round1(total * 0.7),
      system: round1(total * 0.25),
      iowait: round1(total * 0.05),
      cores: [round1(Math.min(100, total + next() * 5)), round1(Math.max(0, total - next() * 5))],
      load: [round2(load * 2 + next()), round2(load * 2), round2(load * 1.8)],
    };
    const memTotal = 8 * 2 ** 30;
    const used = Math.round((memTotal * (0.3 + 0.2 * Math.min(1, sinceRestartMs / (7 * DAY)) + 0.05 * load)) / 4096) * 4096;
    const memory: MemorySample = {
      t,
      total: memTotal,
      used,
      available: memTotal - used,
      cached: Math.round((memTotal * 0.2) / 4096) * 4096,
      buffers: 64 * 2 ** 20,
      swapTotal: 0,
      swapUsed: 0,
    };
    const rx = Math.round(2e6 * load * (0.8 + next() * 0.4));
    const tx = Math.round(6e6 * load * (0.8 + next() * 0.4));
    const network: NetworkSample = { t, rx, tx, interfaces: [{ name: 'eth0', rx, tx }] };
    const disk: DiskSample = { t, read: Math.round(next() < 0.1 ? next() * 5e6 : 0), write: Math.round(2e5 * load + next() * 1e5) };
    const count = Math.round(((40 * load + next() * 10) * stepMs) / 1000 / (stepMs > 1000 ? stepMs / 1000 : 1));
    this.histogram.reset();
    let max = 0;
    for (let i = 0; i < count; i++) {
      const ms = (next() < 0.02 ? 200 + next() * 600 : 1 + next() * 15) * (spiking ? 3 : 1);
      this.histogram.record(ms);
      if (ms > max) max = ms;
    }
    const errors = Math.round(count * 0.01 * next());
    // Percentiles from the buckets (as the store reads them), not the histogram's own walk: the same values, far less work.
    const buckets = count > 0 ? this.histogram.buckets() : null;
    const summary = buckets ? { ...summaryOf(buckets), max: round3(max) } : ZERO_LATENCY;
    const requests: RequestsSample = {
      t,
      source: 'self',
      count,
      rate: round2((count * 1000) / stepMs),
      inFlight: Math.round(next() * 3),
      status: { '1xx': 0, '2xx': count - errors, '3xx': 0, '4xx': 0, '5xx': errors, aborted: 0 },
      latency: summary,
      bytes: count * 2400,
      window: { ms: 60_000, count: count * 60, errors: errors * 60, latency: summary },
      routes: [],
    };
    const ownCpu = round1(0.5 + next());
    const process: ProcessSample = {
      t,
      cpu: ownCpu,
      rss: 80 * 2 ** 20 + Math.round(next() * 2 ** 20),
      heapUsed: 20 * 2 ** 20 + Math.round(next() * 4 * 2 ** 20),
      heapTotal: 32 * 2 ** 20,
      lagP50: round1(50 + next()),
      lagP99: round1(51 + next() * 3),
      loopBusy: round1(ownCpu * 0.8), // its own CPU is mostly the loop's work
      uptime: Math.round(sinceRestartMs / 1000),
    };
    return { cpu, memory, network, disk, requests, process, buckets: buckets ?? undefined };
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Writes `days` of synthetic history through the store (the same journal, sealing and rollups as a live server). */
export async function writeDemo(options: DemoOptions): Promise<{ samples: number; bytes: number; error: string | null }> {
  const end = options.end ?? Date.now();
  const retention = options.retention ?? DEFAULT_RETENTION;
  const clock = { now: end - options.days * DAY };
  const store = HistoryStore.open({ dir: options.dir, retention, memoryMs: HOUR, now: () => clock.now, log: () => {}, sync: false });
  if (!store.writing) {
    const error = store.status().error;
    store.close();
    return { samples: 0, bytes: 0, error };
  }
  const host = new DemoHost(options.seed);
  const gapFrom = end - DEMO_GAP.beforeEndMs;
  const gapTo = gapFrom + DEMO_GAP.lengthMs;
  const rawFrom = end - retention.raw;
  let restartedAt = clock.now;
  let samples = 0;
  let nextTick = clock.now + 5000;
  let working: Promise<void> = Promise.resolve();
  for (let t = clock.now; t < end; ) {
    const step = t < rawFrom ? (options.oldStepMs ?? OLD_STEP_MS) : options.intervalMs;
    if (t >= gapFrom && t < gapTo) {
      t = gapTo;
      restartedAt = gapTo;
      continue;
    }
    clock.now = t;
    const generated = host.samples(t, step, t - restartedAt);
    for (const topic of ['cpu', 'memory', 'network', 'disk', 'process', 'requests'] as const) {
      const sample = generated[topic];
      if (!sample) continue;
      store.record(topic, sample, topic === 'requests' ? generated.buckets : undefined);
      samples++;
    }
    if (t >= nextTick) {
      // One seal compresses and writes while the next samples are made; never more than one.
      await working;
      working = store.tick();
      nextTick = t + 60_000;
    }
    t += step;
  }
  await working;
  clock.now = end;
  await store.tick();
  store.close();
  const status = store.status();
  return { samples, bytes: status.bytes, error: status.error };
}
