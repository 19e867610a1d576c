import type { Browser } from './chromium.js';

/** The mark web/board.ts sets once the charts' first picture is drawn. */
export const BACKFILL_DRAWN = 'pulseboard:backfill-drawn';

/**
 * Opens `url` in a new page and reads, as the first-picture mark is set, each chart's draws so far and the
 * points held for the CPU total (what that one picture held).
 */
export async function atFirstPicture(browser: Browser, url: string): Promise<{ draws: number[]; points: number }> {
  const page = await browser.context.newPage();
  await page.addInitScript((name) => {
    new PerformanceObserver((list, observer) => {
      if (!list.getEntriesByName(name).length) return;
      observer.disconnect();
      const debug = (window as any).__pulseboardDebug;
      (window as any).__atFirstPaint = { draws: debug.chartDraws(), points: debug.points('cpu.total') };
    }).observe({ type: 'mark' });
  }, BACKFILL_DRAWN);
  await page.goto(url);
  const handle = await page.waitForFunction(() => (window as any).__atFirstPaint, undefined, { timeout: 10_000 });
  const seen = (await handle.jsonValue()) as { draws: number[]; points: number };
  await page.close();
  return seen;
}
