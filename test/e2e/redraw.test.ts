import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CpuSample } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { startTestServer } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

const HOUR = 3_600_000;

type Debug = {
  counters(): { draws: number };
  chartDraws(): number[];
  visibleRange(): { min: number; max: number } | null;
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

/** A CPU-only server streaming every `intervalMs`, its log already holding an hour of 1 Hz history: the 1 h window is full. */
async function serverWithHour(intervalMs: number): Promise<RunningServer> {
  const cpu = steerableCpu(intervalMs);
  const server = await startTestServer({ intervalMs, historyMs: HOUR, backfillMs: HOUR }, { collectors: [cpu.collector] });
  const now = Date.now() - 1000;
  for (let t = now - HOUR; t < now; t += 1000) {
    server.monitor.hub.publish('cpu', { t, total: 20, user: 20, system: 0, iowait: 0, cores: [20], load: [0, 0, 0] } satisfies CpuSample);
  }
  return server;
}

async function openLive(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  cleanups.push(() => page.close());
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, {
    timeout: 10_000,
  });
  await page.waitForFunction(() => (window as any).__pulseboardDebug.chartDraws()[0] > 0, undefined, { timeout: 10_000 });
  return page;
}

const updatesAtLeast = (page: Page, n: number) =>
  page.waitForFunction((count) => (window as any).__pulseboardDebug.counters().draws >= count, n, { timeout: 10_000 });

describe('live charts draw new points at most once per pixel column, and within one', () => {
  it('at 5 m (a column of well under a second) every new point of a 1 s stream is drawn as it comes', async () => {
    const server = await serverWithHour(1000);
    cleanups.push(() => server.close());
    const page = await openLive(`${server.url}?window=5m&share=0`);
    const before = await debug(page, (d) => ({ draws: d.chartDraws()[0] as number, newest: d.times('cpu.total').at(-1) as number }));
    // Two new CPU points, both drawn.
    await page.waitForFunction(
      (newest) => {
        const d = (window as any).__pulseboardDebug;
        const added = d.times('cpu.total').filter((t: number) => t > newest);
        return added.length >= 2 && d.visibleRange()?.max >= added[1];
      },
      before.newest,
      { timeout: 10_000 },
    );
    const after = await debug(page, (d) => ({
      draws: d.chartDraws()[0] as number,
      drawnUntil: d.visibleRange()?.max as number,
      times: d.times('cpu.total'),
    }));
    const drawnPoints = after.times.filter((t) => t > before.newest && t <= after.drawnUntil).length;
    // One draw per new point: none waited for another to be drawn with it.
    expect(after.draws - before.draws).toBeGreaterThanOrEqual(drawnPoints);
  });

  it('at 1 h (a column of ~5 s) a 250 ms stream draws less often than it updates, and the newest point is drawn within a column even when the stream stops', async () => {
    const server = await serverWithHour(250);
    const page = await openLive(`${server.url}?window=1h&share=0`);
    const before = await debug(page, (d) => ({ updates: d.counters().draws, draws: d.chartDraws()[0] as number }));
    await updatesAtLeast(page, before.updates + 3);
    const after = await debug(page, (d) => ({ updates: d.counters().draws, draws: d.chartDraws()[0] as number }));
    expect(after.draws - before.draws).toBeLessThan(after.updates - before.updates);

    await server.close();
    // No sample comes any more: the points taken in and not drawn yet are drawn by the column's deadline.
    await page.waitForFunction(
      () => {
        const d = (window as any).__pulseboardDebug;
        return d.visibleRange()?.max === d.times('cpu.total').at(-1);
      },
      undefined,
      { timeout: 15_000 },
    );
  });
});
