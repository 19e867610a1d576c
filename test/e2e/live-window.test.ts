import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuSample } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { atFirstPicture, BACKFILL_DRAWN } from '../helpers/first-picture.js';
import { startTestServer } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

/** The server holds 50 minutes of samples, one a second, and sends a stream's backfill of 5. */
const HELD_SAMPLES = 3000;

let browser: Browser;
let server: RunningServer;
beforeAll(async () => {
  browser = await launchBrowser();
  const cpu = steerableCpu(1000);
  server = await startTestServer({ intervalMs: 1000, historyMs: 3_600_000, backfillMs: 300_000 }, { collectors: [cpu.collector] });
  const now = Date.now() - 1000;
  for (let t = now - HELD_SAMPLES * 1000; t < now; t += 1000) {
    server.monitor.hub.publish('cpu', { t, total: 30, user: 30, system: 0, iowait: 0, cores: [30], load: [0, 0, 0] } satisfies CpuSample);
  }
  // No live sample from now on: the counts below are the backfill's and the history's alone.
  server.monitor.sampler.stop();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const cpuPoints = (page: Page) => page.evaluate(() => (window as any).__pulseboardDebug.points('cpu.total') as number);

/** A page whose requests to /api/history are counted. */
async function openCounting(query: string): Promise<{ page: Page; asked: string[] }> {
  const page = await browser.context.newPage();
  const asked: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/history') asked.push(request.url());
  });
  await page.goto(`${server.url}${query}`);
  return { page, asked };
}

describe('a live window longer than the backfill', () => {
  it('opened at 1 h, draws the 50 minutes the server holds in its first picture, not the backfill’s 5 first', async () => {
    const { draws, points } = await atFirstPicture(browser, `${server.url}?window=1h&share=0`);
    expect(points).toBeGreaterThanOrEqual(HELD_SAMPLES - 5);
    expect(draws.length).toBeGreaterThan(0);
    expect(draws).toEqual(draws.map(() => 1));
  });

  it('widened on an open page, fetches the samples it lacks once, and draws them', async () => {
    const { page, asked } = await openCounting('?window=5m&share=0');
    await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, BACKFILL_DRAWN, { timeout: 10_000 });
    expect(await cpuPoints(page)).toBeLessThanOrEqual(301);
    expect(asked).toEqual([]);

    await page.click('button[data-window="1h"]');
    await page.waitForFunction((held) => (window as any).__pulseboardDebug.points('cpu.total') >= held, HELD_SAMPLES - 5, {
      timeout: 10_000,
    });
    expect(asked).toHaveLength(1);
    expect(new URL(asked[0] as string).searchParams.get('since')).toMatch(/^\d+$/);
    // Drawn: the chart's first point is ~50 minutes back.
    const first = await page.evaluate(() => (window as any).__pulseboardDebug.times('cpu.total')[0] as number);
    expect(Date.now() - first).toBeGreaterThan(49 * 60_000);

    // Held now: narrowing and widening again asks for nothing.
    await page.click('button[data-window="15m"]');
    await page.click('button[data-window="1h"]');
    await page.waitForTimeout(300);
    expect(asked).toHaveLength(1);
    await page.close();
  });

  it('whose older samples cannot be fetched, draws what it holds and says history is unavailable', async () => {
    const page = await browser.context.newPage();
    await page.route('**/api/history?**', (route) => route.abort());
    await page.goto(`${server.url}?window=1h&share=0`);
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.chartDraws()[0] > 0, undefined, { timeout: 10_000 });
    expect(await cpuPoints(page)).toBeLessThanOrEqual(301);
    expect(await page.locator('#controls').textContent()).toContain('history unavailable');
    await page.close();
  });

  it('whose fill failed, asks again a few seconds later and draws the whole window once it is answered', async () => {
    const page = await browser.context.newPage();
    let asked = 0;
    await page.route('**/api/history?**', (route) => {
      asked++;
      return asked === 1 ? route.abort() : route.continue();
    });
    await page.goto(`${server.url}?window=1h&share=0`);
    await page.waitForFunction(() => document.querySelector('#controls')?.textContent?.includes('history unavailable'), undefined, {
      timeout: 10_000,
    });
    expect(await cpuPoints(page)).toBeLessThanOrEqual(301);

    await page.waitForFunction((held) => (window as any).__pulseboardDebug.points('cpu.total') >= held, HELD_SAMPLES - 5, {
      timeout: 15_000,
    });
    expect(asked).toBe(2);
    expect(await page.locator('#controls').textContent()).not.toContain('history unavailable');
    // Drawn, not only held: the chart's x axis, as last drawn, reaches ~50 minutes back.
    await page.waitForFunction(() => Date.now() - (window as any).__pulseboardDebug.chartRanges()[0].min > 49 * 60_000, undefined, {
      timeout: 10_000,
    });
    await page.close();
  });
});
