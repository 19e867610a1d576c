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
  backing: [number, number];
  datasets: { label: string; points: [number, number | null][]; hidden: boolean }[];
  bands: { label: string; rows: [number, number | null, number | null][] }[];
  plot: { left: number; right: number; top: number; bottom: number; min: number; max: number; yMin: number; yMax: number };
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

  /** A page on a fixed range of the past (by default 10 hours with the demo's downtime in it), its rows shown in every chart. */
  async function openRange(fallback: boolean, from = end - 12 * HOUR, to = end - 2 * HOUR): Promise<{ page: Page; scripts: string[] }> {
    const page = await browser.context.newPage();
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('.js')) scripts.push(new URL(request.url()).pathname);
    });
    if (fallback) await page.addInitScript(removeOffscreenCanvas);
    // Tall enough for every panel to be in view: a chart out of view keeps whatever frame it had when it left.
    await page.setViewportSize({ width: 680, height: 4000 });
    await page.goto(`${server.url}?from=${from}&to=${to}`);
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
    // The worker's Chart.js holds the lines as its only datasets, their min–max bands beside them, both with the downtime's gap...
    const cpu = inWorker[0] as Snapshot;
    expect(cpu.datasets.map((dataset) => dataset.label)).toEqual(['user', 'system', 'iowait']);
    expect(cpu.bands.map((band) => band.label)).toEqual(['user', 'system', 'iowait']);
    expect(cpu.datasets[0]?.points.length).toBeGreaterThan(100);
    expect(cpu.bands[0]?.rows.length).toBeGreaterThan(100);
    expect(cpu.datasets[0]?.points.some(([, y]) => y === null)).toBe(true);
    expect(cpu.bands[0]?.rows.some(([, low, high]) => low === null && high === null)).toBe(true);
    // ...exactly what the main thread's holds, chart for chart; both painted.
    expect(inWorker.map((chart) => chart.datasets)).toEqual(onMain.map((chart) => chart.datasets));
    expect(inWorker.map((chart) => chart.bands)).toEqual(onMain.map((chart) => chart.bands));
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

  it('hides a line from its legend, and shows it again', async () => {
    const { page } = await openRange(false);
    const cpuSnapshot = () => page.evaluate(() => (window as any).__pulseboardDebug.chartSnapshot(0) as Promise<Snapshot>);
    const hiddenLabels = async () => (await cpuSnapshot()).datasets.filter((dataset) => dataset.hidden).map((dataset) => dataset.label);
    const cpu = await cpuSnapshot();
    expect(cpu.bands.find((band) => band.label === 'system')?.rows.length).toBeGreaterThan(100);
    const [left, top, width, height] = cpu.legend[1] as [number, number, number, number]; // "system"
    const box = (await page.locator('[data-topic="cpu"] canvas').boundingBox()) as { x: number; y: number };
    const clickSystem = () => page.mouse.click(box.x + left + width / 2, box.y + top + height / 2);

    expect(await hiddenLabels()).toEqual([]);
    await clickSystem();
    await expect.poll(hiddenLabels).toEqual(['system']);
    await clickSystem();
    await expect.poll(hiddenLabels).toEqual([]);
    await page.close();
  }, 60_000);

  /** The RGB of each pixel down columns `xs` of a PNG, decoded by the browser on a blank page. */
  async function columnsOf(png: Buffer, xs: number[]): Promise<[number, number, number][][]> {
    const blank = await browser.context.newPage();
    const columns = await blank.evaluate(
      async ({ base64, xs }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const image = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const canvas = new OffscreenCanvas(image.width, image.height);
        const context = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
        context.drawImage(image, 0, 0);
        const { data } = context.getImageData(0, 0, image.width, image.height);
        return xs.map((x) =>
          Array.from({ length: image.height }, (_, y) => {
            const i = 4 * (y * image.width + x);
            return [data[i], data[i + 1], data[i + 2]] as [number, number, number];
          }),
        );
      },
      { base64: png.toString('base64'), xs },
    );
    await blank.close();
    return columns;
  }

  /**
   * The network chart of a range, its charts four times their height, screenshotted with its first line
   * ("received") shown and then hidden from the legend, with its snapshot (taken with the line shown).
   */
  async function networkShownAndHidden(page: Page) {
    await page.evaluate(() => {
      for (const chart of document.querySelectorAll<HTMLElement>('.chart')) chart.style.height = '40rem';
    });
    const networkChart = async () => {
      const snapshots = await page.evaluate(() => (window as any).__pulseboardDebug.chartSnapshots() as Promise<Snapshot[]>);
      const index = snapshots.findIndex((chart) => chart.datasets[0]?.label === 'received');
      return { index, network: snapshots[index] as Snapshot };
    };
    await expect.poll(async () => (await networkChart()).network.backing[1]).toBe(640);
    const { index, network } = await networkChart();
    const { plot } = network;
    const canvas = page.locator('canvas').nth(index);
    const shownPng = await canvas.screenshot();
    const [left, top, width, height] = network.legend[0] as [number, number, number, number]; // "received"
    const box = (await canvas.boundingBox()) as { x: number; y: number };
    await page.mouse.click(box.x + left + width / 2, box.y + top + height / 2);
    const hiddenSnapshot = () => page.evaluate((i) => (window as any).__pulseboardDebug.chartSnapshot(i) as Promise<Snapshot>, index);
    await expect.poll(async () => (await hiddenSnapshot()).datasets[0]?.hidden).toBe(true);
    // The y axis did not move: the same values at the same pixels with and without the line.
    expect((await hiddenSnapshot()).plot).toEqual(plot);
    const hiddenPng = await canvas.screenshot();
    return {
      index,
      network,
      shownPng,
      hiddenPng,
      xPixel: (t: number) => Math.round(plot.left + ((t - plot.min) / (plot.max - plot.min)) * (plot.right - plot.left)),
      yPixel: (v: number) => plot.top + ((plot.yMax - v) / (plot.yMax - plot.yMin)) * (plot.bottom - plot.top),
    };
  }

  it("paints each line's min–max band in its colour between the min and the max, and none once the line is hidden", async () => {
    // Three hours drawn from 1-minute rows: those of the last two each the min and max of 15 samples (the older
    // rows, of the demo's one sample a minute, have no band to see: min and max are one value). Not the seven hours
    // around the downtime: their y axis, spanning more of the demo's daily cycle, left the band a few pixels high
    // at some times of day.
    for (const fallback of [false, true]) {
      const { page } = await openRange(fallback, end - 3 * HOUR, end - MINUTE);
      expect((await shown(page))?.tier).toBe('1m');
      const { index, network, shownPng, hiddenPng, xPixel, yPixel } = await networkShownAndHidden(page);
      const rows = (network.bands[0] as Snapshot['bands'][number]).rows;
      const whole = (i: number) => rows[i]?.[1] != null && rows[i]?.[2] != null;
      // The widest rows of the "received" band, each at its own pixel column, its neighbours in the band too.
      const spread = ([, low, high]: Snapshot['bands'][number]['rows'][number]) => yPixel(low as number) - yPixel(high as number);
      const { plot } = network;
      const widest = rows
        .filter(([x], i) => whole(i - 1) && whole(i) && whole(i + 1) && xPixel(x) > plot.left + 20 && xPixel(x) < plot.right - 20)
        .sort((a, b) => spread(b) - spread(a))
        .filter(([x], i, sorted) => sorted.findIndex(([other]) => xPixel(other) === xPixel(x)) === i)
        .slice(0, 12) as [number, number, number][];
      const meanAt = (t: number) => yPixel(network.datasets[0]?.points.find(([x]) => x === t)?.[1] ?? Number.NaN);
      const columns = widest.map(([x]) => xPixel(x));
      const shownBand = await columnsOf(shownPng, columns);
      const hiddenBand = await columnsOf(hiddenPng, columns);
      const color = ((await page.evaluate(() => (window as any).__pulseboardDebug.chartColors())) as string[])[index] as string;
      const rgb = [1, 3, 5].map((at) => Number.parseInt(color.slice(at, at + 2), 16));
      // Between the min and the max (away from the line itself), what is behind is tinted by the line's colour at 0.18.
      let inBand = 0;
      let tinted = 0;
      widest.forEach(([x, low, high], column) => {
        const mean = meanAt(x);
        for (let y = Math.ceil(yPixel(high)) + 1; y < Math.floor(yPixel(low)) - 1; y++) {
          if (Math.abs(y - mean) < 3) continue;
          inBand++;
          const behind = hiddenBand[column]?.[y] as [number, number, number];
          const drawn = shownBand[column]?.[y] as [number, number, number];
          if (drawn.every((value, c) => Math.abs(value - ((behind[c] as number) * 0.82 + (rgb[c] as number) * 0.18)) <= 4)) tinted++;
        }
      });
      expect(inBand).toBeGreaterThan(20);
      expect(tinted, `fallback ${fallback}: ${tinted} of ${inBand} pixels tinted`).toBeGreaterThanOrEqual(0.7 * inBand);
      await page.close();
    }
  }, 90_000);

  it('draws nothing of a line across the downtime', async () => {
    // The rows beside this downtime are one sample each, so a band bridging it would be a line; the band's
    // break at a gap is unit-tested (web-minmax-bands).
    for (const fallback of [false, true]) {
      const { page } = await openRange(fallback, end - 7 * HOUR, end - MINUTE);
      expect((await shown(page))?.tier).toBe('1m');
      const { network, shownPng, hiddenPng, xPixel } = await networkShownAndHidden(page);
      const rows = (network.bands[0] as Snapshot['bands'][number]).rows;
      const gapAt = (rows.find(([, low, high]) => low === null && high === null) as [number, null, null])[0];
      const [shownGap] = await columnsOf(shownPng, [xPixel(gapAt)]);
      const [hiddenGap] = await columnsOf(hiddenPng, [xPixel(gapAt)]);
      // Across the downtime the column is the same with the line hidden.
      const { plot } = network;
      expect(shownGap?.slice(Math.ceil(plot.top), Math.floor(plot.bottom))).toEqual(
        hiddenGap?.slice(Math.ceil(plot.top), Math.floor(plot.bottom)),
      );
      await page.close();
    }
  }, 90_000);
});
