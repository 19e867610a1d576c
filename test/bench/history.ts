import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { writeDemo } from '../../server/history/demo.js';
import { readSegment } from '../../server/history/segment.js';
import { HistoryStore } from '../../server/history/store.js';
import { DEFAULT_RETENTION } from '../../server/history/tiers.js';
import { launchBrowser } from '../helpers/chromium.js';
import { type HistoryMemoryResult, historyMemory, MIXED_QUERIES } from './history-memory.js';
import { cpuSecondsFine, median, type Started, sleep, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const REQUESTED = 'pulseboard:range-requested';
const DRAWN = 'pulseboard:range-drawn';

export interface HistoryBenchResult {
  demo: { days: number; seconds: number; samples: number; bytes: number };
  /** Bytes of the raw tier per number stored in it (the latency buckets' bytes included). */
  bytesPerRawNumber: number;
  rawNumbers: number;
  rawBytes: number;
  tierBytes: { raw: number; '1m': number; '10m': number; '1h': number };
  /** A year of the default tiers: 24 h of raw, 30 days of 1m, 90 days of 10m (the demo's 30, times 3), 365 days of 1h rows (the 1h bytes per hour of the demo, times 8 760). */
  yearBytes: number;
  /** CPU of the store itself (journal every 5 s, the hourly seal) per second of 1 Hz samples, % of one core. */
  storeCpuPercent: number;
  /** Idle servers at 1 Hz, with and without a data directory, % of one core each. */
  idleWith: number;
  idleWithout: number;
  idleSeconds: number;
  /** Query + first paint per window: the first (cold: segments not decoded yet) and the median of the next ones. */
  paint: { window: string; tier: string; coldMs: number; warmMs: number; rows: number; warmResponseMs: number }[];
  /** RSS of a server at default flags on the 30-day store, after the long windows' queries and after mixed ones. */
  memory: HistoryMemoryResult;
  /** Server start to the first event of a stream, with the full store, ms (median of 3). */
  startToFirstEventMs: number;
  commands: Record<string, string>;
}

function filesOf(dir: string): string[] {
  try {
    return readdirSync(dir).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

const sizeOf = (files: string[]) => files.reduce((sum, file) => sum + statSync(file).size, 0);

/** The store's own CPU for an hour of the demo's samples at 1 Hz (6 topics), sealed at the end: µs of CPU per second of samples. */
async function storeCpuPerSecond(dir: string): Promise<number> {
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const sourceDir = mkdtempSync(join(tmpdir(), 'pulseboard-bench-source-'));
  // The samples: an hour written by the demo (raw tier), read back, then fed to a fresh store as a live server does.
  await writeDemo({
    days: 1,
    dir: sourceDir,
    intervalMs: 1000,
    seed: 9,
    end,
    retention: { raw: HOUR, '1m': DAY, '10m': DAY, '1h': 7 * DAY },
  });
  const source = HistoryStore.open({ dir: sourceDir, retention: DEFAULT_RETENTION, memoryMs: HOUR, log: () => {} });
  const topics = ['cpu', 'memory', 'network', 'disk', 'process', 'requests'] as const;
  const rows = topics.flatMap((topic) => source.raw(topic, end - HOUR, end - 1).map((row) => ({ topic, row })));
  source.close();
  rows.sort((a, b) => a.row.sample.t - b.row.sample.t);
  const clock = { now: end - HOUR };
  const store = HistoryStore.open({ dir, retention: DEFAULT_RETENTION, memoryMs: HOUR, now: () => clock.now, log: () => {} });
  const before = process.cpuUsage();
  let nextTick = clock.now + 5000;
  for (const { topic, row } of rows) {
    clock.now = row.sample.t;
    store.record(topic, row.sample, row.buckets);
    if (clock.now >= nextTick) {
      await store.tick();
      nextTick += 5000;
    }
  }
  clock.now = end + 1000;
  await store.tick();
  const used = process.cpuUsage(before);
  store.close();
  rmSync(sourceDir, { recursive: true, force: true });
  return (used.user + used.system) / 3600;
}

async function idleCpu(args: string[], seconds: number): Promise<number> {
  const server = await startProcess(process.execPath, [join(ROOT, 'dist/server/main.js'), '--port', '0', ...args]);
  try {
    await sleep(20_000);
    const before = { cpu: cpuSecondsFine(server.pid), at: performance.now() };
    await sleep(seconds * 1000);
    return ((cpuSecondsFine(server.pid) - before.cpu) / ((performance.now() - before.at) / 1000)) * 100;
  } finally {
    await server.stop();
  }
}

/**
 * Query + first paint, of it the part until the answer's last byte came (the rest: parse, fill, draw), and the
 * drawing's time from the navigation, ms.
 */
export async function rangePaint(page: Page, url: string): Promise<{ totalMs: number; responseMs: number; navigationMs: number }> {
  await page.goto(url);
  const handle = await page.waitForFunction(
    ([requested, drawn]) => {
      const a = performance.getEntriesByName(requested as string)[0];
      const b = performance.getEntriesByName(drawn as string)[0];
      const answer = performance.getEntriesByType('resource').find((entry) => entry.name.includes('api/history')) as
        | PerformanceResourceTiming
        | undefined;
      return a && b && answer
        ? { totalMs: b.startTime - a.startTime, responseMs: answer.responseEnd - a.startTime, navigationMs: b.startTime }
        : undefined;
    },
    [REQUESTED, DRAWN],
    { timeout: 60_000 },
  );
  return (await handle.jsonValue()) as { totalMs: number; responseMs: number; navigationMs: number };
}

/** Spawn to the first `event:` line of a stream, ms. */
async function startToFirstEvent(dir: string): Promise<number> {
  const began = performance.now();
  const server: Started = await startProcess(process.execPath, [join(ROOT, 'dist/server/main.js'), '--port', '0', '--data-dir', dir]);
  try {
    const response = await fetch(`${server.url}/api/events`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event:')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    const ms = performance.now() - began;
    await reader.cancel();
    return ms;
  } finally {
    await server.stop();
  }
}

/**
 * Durable history: a 30-day demo store (its size per tier, bytes per raw number, a year extrapolated), the
 * store's CPU per second of samples, idle servers with and without a data directory, query + first paint of
 * the 24 h / 7 d / 30 d windows in Chromium, and start-up to the first event with the full store.
 */
export async function benchHistory(trials: number, idleSeconds: number): Promise<HistoryBenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'pulseboard-bench-history-'));
  const servers: Started[] = [];
  try {
    const dir = join(root, 'demo');
    const began = performance.now();
    const demo = await writeDemo({ days: 30, dir, intervalMs: 1000, seed: 1 });
    const demoSeconds = (performance.now() - began) / 1000;
    if (demo.error) throw new Error(demo.error);

    const raw = filesOf(join(dir, 'raw'));
    let rawNumbers = 0;
    for (const file of raw)
      for (const chunk of readSegment(file))
        for (const column of Object.values(chunk.numbers)) for (const value of column) if (value !== null) rawNumbers++;
    const tierBytes = {
      raw: sizeOf(raw),
      '1m': sizeOf(filesOf(join(dir, '1m'))),
      '10m': sizeOf(filesOf(join(dir, '10m'))),
      '1h': sizeOf(filesOf(join(dir, '1h'))),
    };
    // The 1h tier holds the 30 days (minus the restart gap) as hourly rows: per hour, times a year.
    const yearBytes = tierBytes.raw + tierBytes['1m'] + 3 * tierBytes['10m'] + (tierBytes['1h'] / (30 * 24)) * 365 * 24;

    const storeCpuPercent = (await storeCpuPerSecond(join(root, 'store-cpu'))) / 10_000;
    const idleWith = await idleCpu(['--data-dir', join(root, 'idle')], idleSeconds);
    const idleWithout = await idleCpu(['--data-dir', 'none'], idleSeconds);

    const starts: number[] = [];
    for (let i = 0; i < trials; i++) starts.push(await startToFirstEvent(dir));

    const memoryDir = join(root, 'memory');
    cpSync(dir, memoryDir, { recursive: true });
    const memory = await historyMemory(memoryDir);

    // A copy: the server's own samples must not change the store the other measures read.
    const served = join(root, 'served');
    cpSync(dir, served, { recursive: true });
    const server = await startProcess(process.execPath, [join(ROOT, 'dist/server/main.js'), '--port', '0', '--data-dir', served]);
    servers.push(server);
    const browser = await launchBrowser();
    const paint: HistoryBenchResult['paint'] = [];
    try {
      for (const window of ['24h', '7d', '30d']) {
        const times: number[] = [];
        const responses: number[] = [];
        let tier = '';
        let rows = 0;
        for (let i = 0; i <= trials; i++) {
          const page = await browser.context.newPage();
          const { totalMs, responseMs } = await rangePaint(page, `${server.url}/?window=${window}&share=0`);
          times.push(totalMs);
          responses.push(responseMs);
          const shown = (await page.evaluate(() => (window as any).__pulseboardDebug.shownRange())) as { tier: string; rows: number };
          tier = shown.tier;
          rows = shown.rows;
          await page.close();
        }
        paint.push({
          window,
          tier,
          coldMs: times[0] as number,
          warmMs: median(times.slice(1)),
          rows,
          warmResponseMs: median(responses.slice(1)),
        });
      }
    } finally {
      await browser.close();
    }
    return {
      demo: { days: 30, seconds: demoSeconds, samples: demo.samples, bytes: demo.bytes },
      bytesPerRawNumber: tierBytes.raw / rawNumbers,
      rawNumbers,
      rawBytes: tierBytes.raw,
      tierBytes,
      yearBytes,
      storeCpuPercent,
      idleWith,
      idleWithout,
      idleSeconds,
      paint,
      memory,
      startToFirstEventMs: median(starts),
      commands: {
        size: 'writeDemo({ days: 30, intervalMs: 1000 }) (= pulseboard demo --days 30); raw/ bytes / non-null numbers in its segments; year = raw + 1m + 3 x 10m (90 days) + 1h bytes per hour x 8 760',
        storeCpu:
          'an hour of the demo at 1 Hz (6 topics) fed to HistoryStore.record with tick() every 5 s and the seal at the end; process.cpuUsage / 3 600 s',
        idle: `node dist/server/main.js --port 0 --data-dir <tmp> vs --data-dir none, each alone; CPU of every thread (/proc/<pid>/task/*/schedstat, ns) over ${idleSeconds} s after 20 s`,
        paint: `node dist/server/main.js --port 0 --data-dir <copy of the 30-day demo store>; Chromium 1440x900 /?window=<w>&share=0; performance marks ${REQUESTED} -> ${DRAWN} (fetch /api/history, parse, fill every chart, draw); first load after start (cold) and median of ${trials} more; of the warm ones, until the answer's last byte (Resource Timing responseEnd)`,
        memory: `node dist/server/main.js --port 0 --data-dir <copy of the 30-day demo store>; GET /api/history?topics=<the page's 7>&points=1400 of the last 24h, 7d, 30d, 1y one after another, then ${MIXED_QUERIES} mixed (1h to 1y spans at fixed pseudo-random places in the 30 days); /proc/<pid>/status VmRSS 1 s and 30 s after start, 1 s after each step, VmHWM at the end, VmRSS again 35 s and 60 s later (the server collects once bulk work is over)`,
        start: `node dist/server/main.js --port 0 --data-dir <30-day demo store>: spawn to the first event: line of GET /api/events; median of ${trials}`,
      },
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}
