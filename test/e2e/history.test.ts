import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GAP, writeDemo } from '../../server/history/demo.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { type ServerProcess, spawnServer } from '../helpers/server.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The store's raw samples and the server's interval: an hour is 900 samples, which a chart ~700 px wide takes as they are. */
const INTERVAL_MS = 4000;

type Snapshot = {
  datasets: { label: string; points: [number, number | null][]; hidden: boolean }[];
  legend: [number, number, number, number][];
  paintedPixels: number;
};
type Shown = { from: number; to: number; follow: boolean; tier: string; step: number; rows: number } | null;
type Debug = {
  shownRange(): Shown;
  chartGaps(): [number, number][];
  chartPointAt(t: number): { x: number; y: number } | null;
  chartPoints(): number[];
  chartBandPoints(): number[];
  visibleRange(): { min: number; max: number } | null;
};
const debug = <T>(page: Page, read: (debug: Debug) => T): Promise<T> =>
  page.evaluate(`(${read.toString()})(window.__pulseboardDebug)`) as Promise<T>;
const shown = (page: Page) => debug(page, (d) => d.shownRange());

/** The page as a browser without `transferControlToOffscreen` sees it: the charts must draw on the main thread. */
const removeOffscreenCanvas = () => {
  delete (HTMLCanvasElement.prototype as { transferControlToOffscreen?: unknown }).transferControlToOffscreen;
};

/** Drags across the first chart from time `from` to time `to`, as a user with a mouse does. */
async function drag(page: Page, from: number, to: number): Promise<void> {
  const start = await page.evaluate((t) => (window as any).__pulseboardDebug.chartPointAt(t), from);
  const end = await page.evaluate((t) => (window as any).__pulseboardDebug.chartPointAt(t), to);
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(end.x, end.y, { steps: 8 });
  await page.mouse.up();
}

describe('history on the page (a 30-day demo store)', () => {
  const root = mkdtempSync(join(tmpdir(), 'pulseboard-history-page-'));
  const end = Date.now();
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    const dir = join(root, 'data');
    // Small and fast: one sample a minute before the last two hours, every 4 s within them.
    const demo = await writeDemo({
      days: 30,
      dir,
      intervalMs: INTERVAL_MS,
      seed: 3,
      end,
      oldStepMs: MINUTE,
      retention: { raw: 2 * HOUR, '1m': 30 * DAY, '10m': 90 * DAY, '1h': 365 * DAY },
    });
    expect(demo.error).toBeNull();
    server = await spawnServer(['--port', '0', '--data-dir', dir, '--retention', 'raw=2h', '--interval', `${INTERVAL_MS}ms`]);
    browser = await launchBrowser({ viewport: { width: 680, height: 1000 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function open(query: string): Promise<Page> {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}${query}`);
    return page;
  }

  it('draws a window of history as its first picture: not the live backfill before it', async () => {
    const page = await browser.context.newPage();
    // Each chart's draws as the range is drawn in every chart.
    await page.addInitScript(() => {
      new PerformanceObserver((list, observer) => {
        if (!list.getEntriesByName('pulseboard:range-drawn').length) return;
        observer.disconnect();
        (window as any).__drawsAtRange = (window as any).__pulseboardDebug.chartDraws();
      }).observe({ type: 'mark' });
    });
    await page.goto(`${server.url}?window=24h&share=0`);
    const handle = await page.waitForFunction(() => (window as any).__drawsAtRange, undefined, { timeout: 20_000 });
    const draws = (await handle.jsonValue()) as number[];
    // Charts of panels below the fold are not drawn at all; those shown, once.
    expect(draws).toContain(1);
    expect(Math.max(...draws)).toBe(1);
    expect(((await page.evaluate('window.__pulseboardDebug.shownRange()')) as { tier: string }).tier).not.toBe('raw');
    await page.close();
  });

  it('zooms from 30 days into one hour by dragging, and shows the raw samples of that hour', async () => {
    const page = await open('?window=30d');
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.shownRange()?.tier === '1h', undefined, { timeout: 20_000 });
    const month = (await shown(page)) as NonNullable<Shown>;
    expect(month.follow).toBe(true);
    expect(month.from).toBeLessThan(end - 29 * DAY);
    expect(await page.textContent('[data-role="history-use"]')).toMatch(
      /history: [\d.]+ [KMG]?i?B on disk in .*raw 2h · 1m 30d · 10m 90d · 1h 1y/,
    );

    // 30 days are ~700 px: first the last day and a half, then one hour in it.
    await drag(page, end - 36 * HOUR, end);
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.shownRange()?.tier === '1m', undefined, { timeout: 20_000 });
    const hourFrom = end - 100 * MINUTE;
    await drag(page, hourFrom, hourFrom + HOUR);
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.shownRange()?.tier === 'raw', undefined, { timeout: 20_000 });
    const hour = (await shown(page)) as NonNullable<Shown>;
    // Within a pixel or two of what was dragged (a pixel is ~2 min at a day and a half).
    expect(Math.abs(hour.from - hourFrom)).toBeLessThan(5 * MINUTE);
    expect(Math.abs(hour.to - hour.from - HOUR)).toBeLessThan(10 * MINUTE);
    expect(hour.step).toBe(INTERVAL_MS); // every sample, not merged
    expect(hour.rows).toBeGreaterThan(0.9 * ((hour.to - hour.from) / INTERVAL_MS));
    const [cpuChartPoints] = await debug(page, (d) => d.chartPoints());
    expect(cpuChartPoints).toBeGreaterThan(3 * 0.9 * ((hour.to - hour.from) / INTERVAL_MS)); // user, system, iowait
    const url = new URL(page.url());
    expect(Number(url.searchParams.get('from'))).toBe(hour.from);
    expect(Number(url.searchParams.get('to'))).toBe(hour.to);
    expect(await page.getAttribute('button[data-control="live"]', 'aria-pressed')).toBe('false');

    // Back in time by half the range, then one click back to live.
    await page.click('button[data-control="back"]');
    await page.waitForFunction((from) => (window as any).__pulseboardDebug.shownRange()?.from < from - 20 * 60_000, hour.from);
    await page.click('button[data-control="live"]');
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.shownRange()?.follow === true);
    expect(new URL(page.url()).searchParams.get('from')).toBeNull();
    expect(await page.getAttribute('button[data-control="live"]', 'aria-pressed')).toBe('true');

    // A shared link opens at its range.
    const shared = await open(`?from=${hour.from}&to=${hour.to}`);
    await shared.waitForFunction(() => (window as any).__pulseboardDebug?.shownRange()?.tier === 'raw', undefined, { timeout: 20_000 });
    expect((await shown(shared))?.from).toBe(hour.from);
  }, 90_000);

  it('draws the restart as a gap, with the min–max band, and keeps the live edge streaming', async () => {
    const page = await open('?window=24h');
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.shownRange()?.tier === '1m', undefined, { timeout: 20_000 });
    const day = (await shown(page)) as NonNullable<Shown>;
    const gapFrom = end - DEMO_GAP.beforeEndMs;
    const gapTo = gapFrom + DEMO_GAP.lengthMs;
    const gaps = await debug(page, (d) => d.chartGaps());
    // The line stops before the downtime and starts again after it: a gap, not a line across it.
    expect(gaps.some(([before, after]) => before <= gapFrom + day.step && after >= gapTo - day.step)).toBe(true);
    // Behind the means, each line's band: the min and the max of every minute.
    const [cpuBand] = await debug(page, (d) => d.chartBandPoints());
    expect(cpuBand).toBeGreaterThan(2 * 0.9 * day.rows);
    // The live edge moves while the past is shown.
    const before = (await debug(page, (d) => d.visibleRange()))?.max ?? 0;
    await page.waitForFunction((max) => ((window as any).__pulseboardDebug.visibleRange()?.max ?? 0) > max, before, {
      timeout: 20_000,
    });
  }, 60_000);

  it('moves a window that ends now forward as time passes: its rows are fetched again, not only extended by the stream', async () => {
    const page = await browser.context.newPage();
    // The page's clock runs three hours behind the server's, so that two hours later by it there is still history to show.
    await page.clock.install({ time: Date.now() - 3 * HOUR });
    await page.goto(`${server.url}?window=6h`);
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.shownRange()?.follow === true, undefined, { timeout: 20_000 });
    const first = (await shown(page)) as NonNullable<Shown>;
    await page.clock.fastForward(2 * HOUR);
    await page.waitForFunction((to) => ((window as any).__pulseboardDebug?.shownRange()?.to ?? 0) > to + 90 * 60_000, first.to, {
      timeout: 20_000,
    });
    const later = (await shown(page)) as NonNullable<Shown>;
    expect(later.follow).toBe(true);
    expect(later.to - later.from).toBe(first.to - first.from);
    expect(later.rows).toBeGreaterThan(0);
    await page.close();
  });

  /** A page on a fixed range of the past (10 hours with the demo's downtime in it), its rows shown in every chart. */
  async function openRange(fallback: boolean): Promise<{ page: Page; scripts: string[] }> {
    const page = await browser.context.newPage();
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('.js')) scripts.push(new URL(request.url()).pathname);
    });
    if (fallback) await page.addInitScript(removeOffscreenCanvas);
    // Tall enough for every panel to be in view: a chart out of view keeps whatever frame it had when it left.
    await page.setViewportSize({ width: 680, height: 4000 });
    await page.goto(`${server.url}?from=${end - 12 * HOUR}&to=${end - 2 * HOUR}`);
    await page.waitForFunction(() => ((window as any).__pulseboardDebug?.shownRange()?.rows ?? 0) > 0, undefined, { timeout: 20_000 });
    return { page, scripts };
  }

  const snapshots = (page: Page) => page.evaluate(() => (window as any).__pulseboardDebug.chartSnapshots() as Promise<Snapshot[]>);
  const drawnIn = (page: Page) => page.evaluate(() => (window as any).__pulseboardDebug.chartsDrawnIn() as string[]);

  it('draws the same series, bands and gaps in the worker as on the main thread without OffscreenCanvas', async () => {
    const worker = await openRange(false);
    const main = await openRange(true);
    const inWorker = await snapshots(worker.page);
    const onMain = await snapshots(main.page);

    expect(new Set(await drawnIn(worker.page))).toEqual(new Set(['worker']));
    expect(new Set(await drawnIn(main.page))).toEqual(new Set(['main']));
    // The worker's Chart.js holds the lines, their min–max bands and the downtime's gap markers...
    const cpu = (inWorker[0] as Snapshot).datasets;
    expect(cpu.map((dataset) => dataset.label)).toEqual([
      'user',
      'system',
      'iowait',
      'user min',
      'user max',
      'system min',
      'system max',
      'iowait min',
      'iowait max',
    ]);
    expect(cpu[0]?.points.length).toBeGreaterThan(100);
    expect(cpu[3]?.points.length).toBeGreaterThan(100);
    expect(cpu[0]?.points.some(([, y]) => y === null)).toBe(true);
    // ...exactly what the main thread's holds, chart for chart; both painted.
    expect(inWorker.map((chart) => chart.datasets)).toEqual(onMain.map((chart) => chart.datasets));
    for (const chart of [...inWorker, ...onMain]) expect(chart.paintedPixels).toBeGreaterThan(0);
    // Each page loaded Chart.js where it draws, and only there.
    expect(worker.scripts.some((path) => /chart-worker-.*\.js$/.test(path))).toBe(true);
    expect(worker.scripts.some((path) => /chart-renderer-.*\.js$/.test(path))).toBe(false);
    expect(main.scripts.some((path) => /chart-renderer-.*\.js$/.test(path))).toBe(true);
    expect(main.scripts.some((path) => /chart-worker-.*\.js$/.test(path))).toBe(false);
    await main.page.close();

    // The pointer is forwarded to the worker, and the tooltip it shows comes back to the page.
    const canvas = worker.page.locator('[data-topic="cpu"] canvas');
    const box = (await canvas.boundingBox()) as { x: number; y: number; width: number; height: number };
    await worker.page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.6);
    await worker.page.waitForFunction(() => document.querySelector('[data-topic="cpu"] canvas')?.getAttribute('data-tooltip'));
    expect(await canvas.getAttribute('data-tooltip')).toMatch(/^\d\d:\d\d:\d\d\nuser: [\d.]+ %\nsystem: [\d.]+ %\niowait: [\d.]+ %$/);
    await worker.page.mouse.move(1, 1);
    await worker.page.waitForFunction(() => !document.querySelector('[data-topic="cpu"] canvas')?.hasAttribute('data-tooltip'));
    await worker.page.close();
  }, 60_000);

  it('hides a line and its min–max band together from the legend, and shows both again', async () => {
    const { page } = await openRange(false);
    const cpuSnapshot = () => page.evaluate(() => (window as any).__pulseboardDebug.chartSnapshot(0) as Promise<Snapshot>);
    const hiddenLabels = async () => (await cpuSnapshot()).datasets.filter((dataset) => dataset.hidden).map((dataset) => dataset.label);
    const cpu = await cpuSnapshot();
    expect(cpu.datasets.find((dataset) => dataset.label === 'system min')?.points.length).toBeGreaterThan(100);
    const [left, top, width, height] = cpu.legend[1] as [number, number, number, number]; // "system"
    const box = (await page.locator('[data-topic="cpu"] canvas').boundingBox()) as { x: number; y: number };
    const clickSystem = () => page.mouse.click(box.x + left + width / 2, box.y + top + height / 2);

    expect(await hiddenLabels()).toEqual([]);
    await clickSystem();
    await expect.poll(hiddenLabels).toEqual(['system', 'system min', 'system max']);
    await clickSystem();
    await expect.poll(hiddenLabels).toEqual([]);
    await page.close();
  }, 60_000);
});
