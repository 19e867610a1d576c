import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/chromium.js';
import { median, type Started, sleep, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The mark web/board.ts sets once the backfill is drawn in every chart. */
const BACKFILL_DRAWN = 'pulseboard:backfill-drawn';

type Counters = { applied: number; draws: number; drawMs: number };
type Debug = { counters(): Counters; points(key: string): number };

export interface BrowserResult {
  /** 1 h window, 3 600 points per series: main-thread ms per live update of every chart (the page's own counter). */
  updateMs: number;
  updates: number;
  /** Chrome's main-thread task time per second over the same span (events, DOM, charts, GC). */
  mainThreadMsPerSecond: number;
  pointsPerSeries: number;
  /** Navigation to every chart drawn with its backfill, ms: 300 rows per topic (5 m at 1 Hz), 5 m window. */
  firstPaintMs: number;
  /** The same with 3 600 rows per topic (1 h at 1 Hz) and the 1 h window. */
  firstPaintLongMs: number;
  commands: { update: string; firstPaint: string; firstPaintLong: string };
}

/** A bench server of the page benches: the build in `dist`, sampling at `interval` with `history` kept and sent as backfill. */
export const pageServerArgs = (dist: string, interval: string, history: string, rules: string) => [
  join(dist, 'server/main.js'),
  '--port',
  '0',
  '--interval',
  interval,
  '--history',
  history,
  '--backfill',
  history,
  '--alert-rules',
  rules,
  // Both servers run at once: on the default ./data the second would find it locked, and the repository
  // would get the bench's history. Their history is the in-memory `--history`.
  '--data-dir',
  'none',
];
const serverArgs = (interval: string, history: string, rules: string) => pageServerArgs(join(ROOT, 'dist'), interval, history, rules);

async function firstPaint(page: Page, url: string): Promise<number> {
  await page.goto(url);
  const handle = await page.waitForFunction((name) => performance.getEntriesByName(name)[0]?.startTime, BACKFILL_DRAWN, {
    timeout: 30_000,
  });
  return Number(await handle.jsonValue());
}

/**
 * Chromium (on the load CPU) against two servers sampling fast so their history fills in seconds: 3 600 points
 * per series as a 1 h window holds at 1 Hz (20 ms x 72 s), and 300 as the default 5 m backfill holds (100 ms x 30 s).
 * Each page holds its own stream (`?share=0`).
 */
export async function benchBrowser(trials: number, updateSeconds: number): Promise<BrowserResult> {
  // No alert rules: a banner appearing mid-measure would be layout work no update pays for.
  const rules = join(mkdtempSync(join(tmpdir(), 'pulseboard-bench-')), 'rules.json');
  writeFileSync(rules, '{"rules": []}');
  const longArgs = serverArgs('20ms', '72s', rules);
  const shortArgs = serverArgs('100ms', '30s', rules);
  const servers: Started[] = [];
  const browser = await launchBrowser();
  try {
    const long = await startProcess(process.execPath, longArgs);
    servers.push(long);
    const short = await startProcess(process.execPath, shortArgs);
    servers.push(short);
    const startedAt = Date.now();

    const paints = async (url: string) => {
      const times: number[] = [];
      const warm = await browser.context.newPage(); // warm-up: caches, JIT
      await firstPaint(warm, url);
      await warm.close();
      for (let i = 0; i < trials; i++) {
        const page = await browser.context.newPage();
        times.push(await firstPaint(page, url));
        await page.close();
      }
      return median(times);
    };
    await sleep(startedAt + 31_000 - Date.now());
    const firstPaintMs = await paints(`${short.url}/?window=5m&share=0`);
    await sleep(startedAt + 74_000 - Date.now());
    const firstPaintLongMs = await paints(`${long.url}/?window=1h&share=0`);

    for (const page of browser.context.pages()) await page.close();
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(`${long.url}/?window=1h&share=0`);
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live');
    await sleep(3000);
    const read = async () => {
      const counters = await page.evaluate(() => (window as unknown as { __pulseboardDebug: Debug }).__pulseboardDebug.counters());
      const { metrics } = await cdp.send('Performance.getMetrics');
      return { ...counters, task: metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0, at: performance.now() };
    };
    const before = await read();
    await sleep(updateSeconds * 1000);
    const after = await read();
    const pointsPerSeries = await page.evaluate(() =>
      (window as unknown as { __pulseboardDebug: Debug }).__pulseboardDebug.points('cpu.total'),
    );
    const updates = after.draws - before.draws;
    const url = (args: string[]) =>
      `node ${args.join(' ').replace(`${ROOT}/`, '').replace(rules, 'rules.json')} (rules.json: {"rules": []})`;
    return {
      updateMs: (after.drawMs - before.drawMs) / Math.max(1, updates),
      updates,
      mainThreadMsPerSecond: ((after.task - before.task) * 1000 * 1000) / (after.at - before.at),
      pointsPerSeries,
      firstPaintMs,
      firstPaintLongMs,
      commands: {
        update: `${url(longArgs)}; Chromium /?window=1h&share=0; __pulseboardDebug.counters() drawMs/draws over ${updateSeconds} s after 3 s`,
        firstPaint: `${url(shortArgs)}; Chromium /?window=5m&share=0; performance mark ${BACKFILL_DRAWN}; median of ${trials} after 1 warm-up`,
        firstPaintLong: `${url(longArgs)}; Chromium /?window=1h&share=0; performance mark ${BACKFILL_DRAWN}; median of ${trials} after 1 warm-up`,
      },
    };
  } finally {
    await browser.close();
    await Promise.all(servers.map((server) => server.stop()));
  }
}
