import type { Page } from 'playwright-core';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { type BareChromium, launchBareChromium } from './bare-chromium.js';
import { chromiumThreadCpu, totalMs } from './chromium-threads.js';
import { sleep } from './procs.js';

/**
 * `bare`: a bare DevTools pipe, Chromium on the bench's one core; `spread`: the same, Chromium free on every
 * core of the machine (the server keeps its own), as a browser opened on this machine runs; `playwright`:
 * Playwright, on the one core.
 */
export type Driver = 'bare' | 'spread' | 'playwright';
/**
 * The bare pipe first: it is the bench's figure; Playwright's is kept beside it. `BENCH_PAINT_DRIVERS=bare`
 * leaves Playwright out (twice the loads of the builds compared in the same time); `spread` is asked for by
 * name: on this two-core machine it shares the servers' core and measured slower than `bare` (README).
 */
export const DRIVERS: Driver[] = driversOf(process.env.BENCH_PAINT_DRIVERS);

/** A comma-separated list of drivers (an environment knob's value); bare and Playwright when not given. */
export function driversOf(list = 'bare,playwright'): Driver[] {
  return list.split(',').filter((name): name is Driver => name === 'bare' || name === 'spread' || name === 'playwright');
}

/** How one load is waited for: a Playwright function on the page, or an expression for the bare pipe. */
export interface PaintWait<T> {
  playwright(page: Page, url: string): Promise<T>;
  /** For `BareTab.evaluateIn`: null until `url` is the document, then a promise of the value. */
  bare(url: string): string;
}

/**
 * A Chromium per driver, all with the same launch flags, for the same page loads side by side. Each load is a
 * new tab; the CPU of every Chromium process below this one is read from just before the navigation to the
 * end of the wait (the idle other browsers included).
 */
export interface PaintDrivers {
  load<T>(driver: Driver, url: string, wait: PaintWait<T>): Promise<{ value: T; cpuMs: number }>;
  close(): Promise<void>;
}

export async function launchPaintDrivers(): Promise<PaintDrivers> {
  const playwright: Browser | null = DRIVERS.includes('playwright') ? await launchBrowser() : null;
  const pipes: Partial<Record<'bare' | 'spread', BareChromium>> = {};
  try {
    if (DRIVERS.includes('bare')) pipes.bare = await launchBareChromium();
    if (DRIVERS.includes('spread')) pipes.spread = await launchBareChromium({ everyCore: true });
  } catch (error) {
    await Promise.all([playwright?.close(), pipes.bare?.close()]);
    throw error;
  }
  return {
    async load(driver, url, wait) {
      if (driver === 'playwright') {
        if (!playwright) throw new Error('BENCH_PAINT_DRIVERS has no playwright');
        const page = await playwright.context.newPage();
        await sleep(300); // the tab's own start-up, and the last page's exit, out of the reading
        const before = chromiumThreadCpu();
        const value = await wait.playwright(page, url);
        const cpuMs = totalMs(before, chromiumThreadCpu());
        await page.close();
        return { value, cpuMs };
      }
      const pipe = pipes[driver];
      if (!pipe) throw new Error(`BENCH_PAINT_DRIVERS has no ${driver}`);
      const tab = await pipe.newTab();
      await sleep(300);
      const before = chromiumThreadCpu();
      await tab.navigate(url);
      const value = await tab.evaluateIn<Awaited<ReturnType<typeof wait.playwright>>>(url, wait.bare(url));
      const cpuMs = totalMs(before, chromiumThreadCpu());
      await tab.close();
      return { value, cpuMs };
    },
    async close() {
      await Promise.all([playwright?.close(), pipes.bare?.close(), pipes.spread?.close()]);
    },
  };
}

/**
 * Every url loaded by every driver once to warm up (caches, JIT), then `trials` times, the builds' order
 * reversed every other trial and the drivers' every other pair, so neither goes first throughout.
 */
export async function alternatingLoads<T>(
  drivers: PaintDrivers,
  urls: string[],
  trials: number,
  wait: PaintWait<T>,
  record: (index: number, driver: Driver, load: { value: T; cpuMs: number }) => void,
): Promise<void> {
  for (const url of urls) for (const driver of DRIVERS) await drivers.load(driver, url, wait);
  for (let trial = 0; trial < trials; trial++) {
    const order = urls.map((_, index) => index);
    if (trial % 2 === 1) order.reverse();
    const driverOrder = trial % 4 < 2 ? DRIVERS : [...DRIVERS].reverse();
    for (const index of order)
      for (const driver of driverOrder) record(index, driver, await drivers.load(driver, urls[index] as string, wait));
  }
}
