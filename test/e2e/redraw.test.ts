import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CpuSample } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { startTestServer } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

const HOUR = 3_600_000;

type Debug = {
  chartDraws(): number[];
  chartColumns(): number[];
  chartRanges(): { min: number; max: number }[];
  counters(): { draws: number };
  times(key: string): number[];
};
const debug = <T>(page: Page, read: (debug: Debug) => T): Promise<T> =>
  page.evaluate(`(${read.toString()})(window.__pulseboardDebug)`) as Promise<T>;

let browser: Browser;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  browser = await launchBrowser({ viewport: { width: 1920, height: 900 } });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * A CPU-only server streaming every `intervalMs`, its log already holding `heldMs` of 1 Hz history. A window
 * longer than what is held spans what is held: a 1 h window over 10 minutes has a column of about a second.
 */
async function serverWithHistory(intervalMs: number, heldMs: number): Promise<RunningServer> {
  const cpu = steerableCpu(intervalMs);
  const server = await startTestServer({ intervalMs, historyMs: HOUR, backfillMs: HOUR }, { collectors: [cpu.collector] });
  const now = Date.now() - 1000;
  for (let t = now - heldMs; t < now; t += 1000) {
    server.monitor.hub.publish('cpu', { t, total: 20, user: 20, system: 0, iowait: 0, cores: [20], load: [0, 0, 0] } satisfies CpuSample);
  }
  return server;
}

/** The CPU panel's first chart: the total, whose line holds the history published. */
const TOTAL = 0;

/** The page, live, its charts drawn once; and the pixel column of the CPU total's chart. */
async function openLive(url: string): Promise<{ page: Page; columnMs: number }> {
  const page = await browser.context.newPage();
  cleanups.push(() => page.close());
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, {
    timeout: 10_000,
  });
  await page.waitForFunction((chart) => (window as any).__pulseboardDebug.chartColumns()[chart] > 0, TOTAL, { timeout: 10_000 });
  return { page, columnMs: (await debug(page, (d) => d.chartColumns()))[TOTAL] as number };
}

describe('live charts draw new points at most once per pixel column, and within one', () => {
  it('at 5 m (a column of about a second on this chart) the new points of a 1 s stream are drawn as they come', async () => {
    const server = await serverWithHistory(1000, 10 * 60_000);
    cleanups.push(() => server.close());
    const { page, columnMs } = await openLive(`${server.url}?window=5m&share=0`);
    expect(columnMs).toBeLessThan(1500);
    const before = await debug(page, (d) => ({ draws: d.chartDraws(), newest: d.times('cpu.total').at(-1) as number }));
    // Three new CPU points, all drawn.
    await page.waitForFunction(
      ([chart, newest]: [number, number]) => {
        const d = (window as any).__pulseboardDebug;
        const added = d.times('cpu.total').filter((t: number) => t > newest);
        return added.length >= 3 && d.chartRanges()[chart].max >= added[2];
      },
      [TOTAL, before.newest] as [number, number],
      { timeout: 10_000 },
    );
    const after = await debug(page, (d) => ({ draws: d.chartDraws(), ranges: d.chartRanges(), times: d.times('cpu.total') }));
    const drawnUntil = after.ranges[TOTAL]?.max ?? 0;
    const drawnPoints = after.times.filter((t) => t > before.newest && t <= drawnUntil).length;
    // A draw per new point; only the first may wait for the second (it can come right after the page's first
    // draw, with a column's time still to go). A chart drawn once per few seconds would draw them all at once.
    expect((after.draws[TOTAL] ?? 0) - (before.draws[TOTAL] ?? 0)).toBeGreaterThanOrEqual(drawnPoints - 1);
  });

  it('at 1 h (over 10 minutes held, a column of about a second) a 100 ms stream draws less often than it updates, and the newest point is drawn within a column once the stream stops', async () => {
    const server = await serverWithHistory(100, 10 * 60_000);
    const { page, columnMs } = await openLive(`${server.url}?window=1h&share=0`);
    expect(columnMs).toBeGreaterThan(400);
    const read = () => debug(page, (d) => ({ updates: d.counters().draws, draws: d.chartDraws() }));
    const before = await read();
    await page.waitForFunction((n) => (window as any).__pulseboardDebug.counters().draws >= n, before.updates + 3, { timeout: 10_000 });
    const after = await read();
    expect((after.draws[TOTAL] ?? 0) - (before.draws[TOTAL] ?? 0)).toBeLessThan(after.updates - before.updates);

    await server.close();
    // No sample comes any more: the points taken in and not drawn yet are drawn by the column's deadline.
    await page.waitForFunction(
      (chart) => {
        const d = (window as any).__pulseboardDebug;
        return d.chartRanges()[chart].max === d.times('cpu.total').at(-1);
      },
      TOTAL,
      { timeout: 15_000 },
    );
  });
});

describe('charts follow the screen they are on', () => {
  it('draw at the new device pixel ratio when the window moves to a denser screen (no CSS size change)', async () => {
    const server = await serverWithHistory(1000, 60_000);
    cleanups.push(() => server.close());
    const { page } = await openLive(`${server.url}?window=5m&share=0`);
    const backing = () =>
      page.evaluate((chart) => (window as any).__pulseboardDebug.chartSnapshot(chart).then((s: { backing: number[] }) => s.backing), TOTAL);
    const cssWidth = await page.evaluate(() => (document.querySelector('[data-topic="cpu"] canvas') as HTMLElement).clientWidth);
    const [before] = await backing();
    expect(before).toBe(cssWidth);

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1920, height: 900, deviceScaleFactor: 2, mobile: false });
    expect(await page.evaluate(() => window.devicePixelRatio)).toBe(2);
    expect(await page.evaluate(() => (document.querySelector('[data-topic="cpu"] canvas') as HTMLElement).clientWidth)).toBe(cssWidth);
    await expect.poll(async () => (await backing())[0], { timeout: 10_000 }).toBe(2 * cssWidth);
  });
});
