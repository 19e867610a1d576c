import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuSample } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { atFirstPicture, BACKFILL_DRAWN } from '../helpers/first-picture.js';
import { startTestServer } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

let browser: Browser;
let server: RunningServer;
beforeAll(async () => {
  browser = await launchBrowser();
  const cpu = steerableCpu(1000);
  server = await startTestServer({ intervalMs: 1000, historyMs: 3_600_000, backfillMs: 3_600_000 }, { collectors: [cpu.collector] });
  const now = Date.now() - 1000;
  for (let t = now - 240_000; t < now; t += 1000) {
    server.monitor.hub.publish('cpu', { t, total: 30, user: 30, system: 0, iowait: 0, cores: [30], load: [0, 0, 0] } satisfies CpuSample);
  }
  // No live sample from now on: on a slow machine one could land before the first-paint mark and draw the
  // charts again, which the first test counts.
  server.monitor.sampler.stop();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('first paint', () => {
  it('each chart is drawn once, with the backfill: not first empty after the hello', async () => {
    const { draws, points } = await atFirstPicture(browser, `${server.url}?window=5m&share=0`);
    expect(draws.length).toBeGreaterThan(0);
    expect(draws).toEqual(draws.map(() => 1));
    // The one draw held the history: the CPU total has its 240 points.
    expect(points).toBeGreaterThanOrEqual(240);
  });

  it('a window of history whose request fails draws the live window instead of waiting for it', async () => {
    const page = await browser.context.newPage();
    await page.route('**/api/history?**', (route) => route.abort());
    await page.goto(`${server.url}?window=24h&share=0`);
    await page.waitForFunction(() => (window as any).__pulseboardDebug?.chartDraws()[0] > 0, undefined, { timeout: 10_000 });
    expect(await page.locator('#controls').textContent()).toContain('history unavailable');
    await page.close();
  });

  it('keeps a window clicked before the stream said hello: the hello does not put back the one the page opened with', async () => {
    const page = await browser.context.newPage();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/events**', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${server.url}?window=5m&share=0`);
    await page.click('button[data-window="15m"]');
    release();
    await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, BACKFILL_DRAWN, { timeout: 10_000 });
    expect(await page.getAttribute('button[data-window="15m"]', 'aria-pressed')).toBe('true');
    expect(new URL(page.url()).searchParams.get('window')).toBe('15m');
    // The charts span 15 minutes: a pixel column's time as on a page opened at 15m, three times a 5m page's.
    const columnMs = (of: typeof page) => of.evaluate('window.__pulseboardDebug.chartColumns()[0]') as Promise<number>;
    const opened = await browser.context.newPage();
    await opened.goto(`${server.url}?window=15m&share=0`);
    await opened.waitForFunction((name) => performance.getEntriesByName(name).length > 0, BACKFILL_DRAWN, { timeout: 10_000 });
    expect(await columnMs(page)).toBeCloseTo(await columnMs(opened), 0);
    await Promise.all([page.close(), opened.close()]);
  });

  it('leaves the history entry alone when the URL does not change', async () => {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      const replace = History.prototype.replaceState;
      (window as any).__replaced = 0;
      History.prototype.replaceState = function (...args: Parameters<History['replaceState']>) {
        (window as any).__replaced++;
        return replace.apply(this, args);
      };
    });
    await page.goto(`${server.url}?window=5m&share=0`);
    await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, BACKFILL_DRAWN, { timeout: 10_000 });
    expect(await page.evaluate('window.__replaced')).toBe(0);
    expect(new URL(page.url()).searchParams.get('window')).toBe('5m');
    await page.close();
  });

  it('asks for the alert timeline only once the charts have drawn their first picture', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}?window=5m&share=0`);
    const handle = await page.waitForFunction(
      (name) => {
        const drawn = performance.getEntriesByName(name)[0];
        const alerts = performance.getEntriesByType('resource').find((entry) => entry.name.includes('/api/alerts'));
        return drawn && alerts ? { drawnAt: drawn.startTime, askedAt: alerts.startTime } : undefined;
      },
      BACKFILL_DRAWN,
      { timeout: 10_000 },
    );
    const { drawnAt, askedAt } = (await handle.jsonValue()) as { drawnAt: number; askedAt: number };
    expect(askedAt).toBeGreaterThanOrEqual(drawnAt);
    await page.waitForSelector('#alert-timeline:not([hidden])', { timeout: 10_000 });
    await page.close();
  });

  it("a host's own server names its role in the page, which opens the stream without asking /api/fleet first", async () => {
    const page = await browser.context.newPage();
    const asked: string[] = [];
    page.on('request', (request) => asked.push(new URL(request.url()).pathname));
    await page.goto(`${server.url}?window=5m&share=0`);
    await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, BACKFILL_DRAWN, { timeout: 10_000 });
    expect(await page.locator('meta[name="pulseboard-role"]').getAttribute('content')).toBe('host');
    expect(asked).toContain('/api/events');
    expect(asked).not.toContain('/api/fleet');
    await page.close();
  });
});
