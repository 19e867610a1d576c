import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../server/alerts/rules.js';
import type { CpuSample } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { ROOT, type ServerProcess, spawnServer, startTestServer } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');
const HOUR = 3_600_000;

type Debug = {
  points(key: string): number;
  times(key: string): number[];
  chartColors(): string[];
  visibleRange(): { min: number; max: number } | null;
  activeAlerts(): string[];
};
const debug = <T>(page: Page, read: (debug: Debug) => T): Promise<T> =>
  page.evaluate(`(${read.toString()})(window.__pulseboardDebug)`) as Promise<T>;
const rangeWidth = async (page: Page) => {
  const range = await debug(page, (d) => d.visibleRange());
  return range ? range.max - range.min : 0;
};
const waitLive = (page: Page) =>
  page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, { timeout: 10_000 });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server whose log already holds 70 minutes of 1 Hz CPU history, so every window has something to show. */
async function serverWithHistory(): Promise<{ server: RunningServer; cpu: ReturnType<typeof steerableCpu> }> {
  const cpu = steerableCpu(1000);
  const server = await startTestServer(
    {
      intervalMs: 1000,
      historyMs: HOUR,
      backfillMs: HOUR,
      alerts: { rules: [{ name: 'cpu-test', metric: 'cpu', above: 50, forMs: 0, severity: 'critical' }], thresholds: DEFAULT_THRESHOLDS },
    },
    { collectors: [cpu.collector] },
  );
  const now = Date.now() - 1000;
  for (let t = now - 70 * 60_000; t < now; t += 1000) {
    const total = 20 + 10 * Math.sin(t / 60_000);
    server.monitor.hub.publish('cpu', { t, total, user: total, system: 0, iowait: 0, cores: [total], load: [0, 0, 0] } satisfies CpuSample);
  }
  cleanups.push(() => server.close());
  return { server, cpu };
}

async function openPage(url: string, viewport?: { width: number; height: number }): Promise<Page> {
  const browser: Browser = await launchBrowser(viewport ? { viewport } : {});
  cleanups.push(() => browser.close());
  const page = await browser.context.newPage();
  await page.goto(url);
  await waitLive(page);
  return page;
}

describe('time window and pause', () => {
  it('switches among 1m, 5m, 15m and 1h at once from the page store, and keeps the choice in the URL and localStorage', async () => {
    const { server } = await serverWithHistory();
    const page = await openPage(server.url);
    await page.waitForFunction(() => (window as any).__pulseboardDebug.points('cpu.total') > 3500);
    expect(Math.abs((await rangeWidth(page)) - 5 * 60_000)).toBeLessThanOrEqual(2000); // the default
    // The alert timeline is asked for once the charts have drawn their first picture: that request is not a refetch.
    await page.waitForSelector('#alert-timeline:not([hidden])', { timeout: 10_000 });

    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    for (const [label, ms] of [
      ['1m', 60_000],
      ['15m', 15 * 60_000],
      ['1h', HOUR],
      ['5m', 5 * 60_000],
    ] as const) {
      await page.click(`button[data-window="${label}"]`);
      expect(Math.abs((await rangeWidth(page)) - ms)).toBeLessThanOrEqual(2000);
      expect(await page.getAttribute(`button[data-window="${label}"]`, 'aria-pressed')).toBe('true');
      expect(new URL(page.url()).searchParams.get('window')).toBe(label);
    }
    expect(requests).toEqual([]); // no refetch: the store already holds the hour

    await page.click('button[data-window="15m"]');
    await page.goto(server.url); // no ?window: the browser remembers
    await waitLive(page);
    await page.waitForFunction(() => (window as any).__pulseboardDebug.points('cpu.total') > 3500);
    expect(await page.getAttribute('button[data-window="15m"]', 'aria-pressed')).toBe('true');
    expect(Math.abs((await rangeWidth(page)) - 15 * 60_000)).toBeLessThanOrEqual(2000);
    await page.goto(`${server.url}?window=1m`); // a shared link wins over what is remembered
    await waitLive(page);
    expect(await page.getAttribute('button[data-window="1m"]', 'aria-pressed')).toBe('true');
  });

  it('pause freezes the charts while data keeps arriving; resume jumps to now', async () => {
    const { server } = await serverWithHistory();
    const page = await openPage(`${server.url}?window=1m`);
    await page.click('button[data-control="pause"]');
    const frozen = await debug(page, (d) => d.visibleRange());
    // Two live samples arrive while paused (the store is full at an hour, so its count stays; its newest
    // time moves), and the view stays where it was.
    await page.waitForFunction(
      (frozenMax) => (window as any).__pulseboardDebug.times('cpu.total').filter((t: number) => t > frozenMax).length >= 2,
      frozen?.max ?? 0,
      { timeout: 10_000 },
    );
    expect(await debug(page, (d) => d.visibleRange())).toEqual(frozen);
    expect(await page.textContent('button[data-control="pause"]')).toBe('resume');

    const newestBeforeResume = (await debug(page, (d) => d.times('cpu.total').at(-1))) as number;
    expect(newestBeforeResume).toBeGreaterThan(frozen?.max ?? 0);
    await page.click('button[data-control="pause"]');
    const resumed = await debug(page, (d) => d.visibleRange());
    expect(resumed?.max).toBeGreaterThanOrEqual(newestBeforeResume);
  });
});

describe('a hidden tab', () => {
  it('keeps storing events but does not draw; on its return it draws at once what came meanwhile', async () => {
    const server = await startTestServer({ intervalMs: 100 });
    cleanups.push(() => server.close());
    const page = await openPage(server.url);
    type Counters = { applied: number; draws: number };
    const counters = () => page.evaluate(() => (window as any).__pulseboardDebug.counters() as Counters);
    const appliedAtLeast = (count: number) =>
      page.waitForFunction((n) => (window as any).__pulseboardDebug.counters().applied >= n, count, { timeout: 10_000 });
    /** Sets the visibility as the browser would, and returns what the first chart shows right after the event. */
    const setHidden = (hidden: boolean) =>
      page.evaluate((value) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (value ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
        const debug = (window as any).__pulseboardDebug;
        return { shownUntil: debug.visibleRange()?.max as number, newest: debug.times('cpu.total').at(-1) as number };
      }, hidden);
    await page.waitForFunction(() => (window as any).__pulseboardDebug.counters().draws >= 2, undefined, { timeout: 10_000 });

    await setHidden(true);
    const atHide = await counters();
    // 150 samples (about 2 s of every topic at 100 ms): a visible page draws several times meanwhile.
    await appliedAtLeast(atHide.applied + 150);
    const hidden = await counters();
    // At most the one draw already scheduled when the tab was hidden lands.
    expect(hidden.draws - atHide.draws).toBeLessThanOrEqual(1);

    const back = await setHidden(false);
    // On return the charts are redrawn at once, up to the newest sample held.
    expect(back.shownUntil).toBe(back.newest);
    // And drawing carries on.
    await page.waitForFunction((n) => (window as any).__pulseboardDebug.counters().draws > n, hidden.draws, { timeout: 10_000 });
  });
});

describe('themes', () => {
  it('keep text readable: a contrast of at least 4.5:1 in the light and the dark theme', async () => {
    const { server } = await serverWithHistory();
    for (const theme of ['light', 'dark']) {
      const page = await openPage(`${server.url}?theme=${theme}`);
      const worst = await page.evaluate(() => {
        const channels = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number);
        const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
          const linear = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
          return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
        };
        const backgroundOf = (element: Element | null): number[] => {
          for (let node = element; node; node = node.parentElement) {
            const rgba = channels(getComputedStyle(node).backgroundColor);
            if (rgba.length === 3 || (rgba[3] ?? 0) > 0.9) return rgba;
          }
          return channels(getComputedStyle(document.body).backgroundColor);
        };
        const results: { text: string; ratio: number }[] = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
          const element = walker.currentNode.parentElement;
          const text = walker.currentNode.textContent?.trim() ?? '';
          if (!element || text === '' || element.closest('[hidden]') || element.getClientRects().length === 0) continue;
          const [lighter, darker] = [luminance(channels(getComputedStyle(element).color)), luminance(backgroundOf(element))].sort(
            (a, b) => b - a,
          );
          results.push({
            text: `${element.tagName}.${element.className}: ${text.slice(0, 30)}`,
            ratio: ((lighter ?? 0) + 0.05) / ((darker ?? 0) + 0.05),
          });
        }
        results.sort((a, b) => a.ratio - b.ratio);
        return { count: results.length, lowest: results.slice(0, 3) };
      });
      console.log(`contrast, ${theme}: lowest ${worst.lowest[0]?.ratio.toFixed(2)}:1 (${worst.lowest[0]?.text}) of ${worst.count} texts`);
      expect(worst.count, theme).toBeGreaterThan(20);
      for (const item of worst.lowest) expect(item.ratio, `${theme}: ${item.text}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('follow the system, and the toggle recolours the charts without a reload', async () => {
    const { server } = await serverWithHistory();
    const browser = await launchBrowser();
    cleanups.push(() => browser.close());
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(server.url);
    await waitLive(page);
    await page.evaluate(() => {
      (window as any).__sameDocument = true;
    });
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark');
    const dark = await debug(page, (d) => d.chartColors());

    await page.click('button[data-control="theme"]'); // auto -> light
    expect(await page.getAttribute('html', 'data-theme')).toBe('light');
    const light = await debug(page, (d) => d.chartColors());
    expect(light).not.toEqual(dark);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(244, 245, 247)');

    await page.click('button[data-control="theme"]'); // light -> dark
    expect(await debug(page, (d) => d.chartColors())).toEqual(dark);
    expect(new URL(page.url()).searchParams.get('theme')).toBe('dark');
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

    await page.click('button[data-control="theme"]'); // dark -> auto, then the system turns light
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    expect(await debug(page, (d) => d.chartColors())).toEqual(light);
  });
});

describe('alerts in the page', () => {
  it('show a firing alert as a banner, a log entry and a notification, and clear the banner when it resolves', async () => {
    const { server, cpu } = await serverWithHistory();
    const browser = await launchBrowser();
    cleanups.push(() => browser.close());
    await browser.context.grantPermissions(['notifications'], { origin: new URL(server.url).origin });
    const page = await browser.context.newPage();
    // Counts the notifications the page creates, then lets the browser's own constructor do its work.
    await page.addInitScript(() => {
      const Original = window.Notification;
      const shown: string[] = [];
      (window as any).__notifications = shown;
      window.Notification = class extends Original {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push(title);
        }
      } as typeof Notification;
    });
    await page.goto(server.url);
    await waitLive(page);
    expect(await page.isHidden('#alert-banner')).toBe(true);
    expect(await page.getAttribute('#alert-banner', 'aria-live')).toBe('assertive');

    cpu.set(97);
    await page.waitForSelector('#alert-banner .alert[data-rule="cpu-test"]', { timeout: 5000 });
    expect(await page.textContent('#alert-banner')).toMatch(/critical cpu-test: CPU 97 %, above 50 %/);
    expect(await page.textContent('#alert-log')).toMatch(/FIRING cpu-test/);
    expect(await page.getAttribute('[data-topic="cpu"] [data-role="value"]', 'data-level')).toBe('critical');
    expect(await page.evaluate(() => (window as any).__notifications)).toEqual(['CRITICAL: cpu-test']);

    // A page opened while the alert fires shows it from the backfill.
    const late = await browser.context.newPage();
    await late.goto(`${server.url}?share=0`);
    await late.waitForSelector('#alert-banner .alert[data-rule="cpu-test"]', { timeout: 5000 });
    await late.close();

    cpu.set(10);
    await page.waitForSelector('#alert-banner', { state: 'hidden', timeout: 5000 });
    expect(await page.textContent('#alert-log li:first-child')).toMatch(/resolved cpu-test/);
    expect(await page.getAttribute('[data-topic="cpu"] [data-role="value"]', 'data-level')).toBe('ok');
  });
});

describe('kiosk and layouts', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await spawnServer(['--port', '0', '--interval', '500ms']);
  });
  afterAll(() => server?.stop());

  const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  /** The layout is final once every panel shows its number and the process table its rows. */
  const everyPanelFilled = (page: Page) =>
    page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-role="value"]')].every((value) => /\d/.test(value.textContent ?? '')) &&
        document.querySelectorAll('[data-topic="processes"] tbody tr').length > 0,
      undefined,
      { timeout: 15_000 },
    );

  it.each([
    [1920, 1080],
    [2560, 1440],
    [3840, 2160],
  ])(
    'kiosk at %ix%i: every panel and the alert log on the screen with no scrolling, whole table rows, no controls, type scaled for the room',
    async (width, height) => {
      const page = await openPage(`${server.url}?kiosk`, { width, height });
      await everyPanelFilled(page);
      expect(await page.isHidden('#controls')).toBe(true);
      expect(await page.evaluate(() => getComputedStyle(document.body).cursor)).toBe('none');
      const rootPx = await page.evaluate(() => Number.parseFloat(getComputedStyle(document.documentElement).fontSize));
      expect(rootPx).toBeGreaterThanOrEqual((16 * width) / 1920 - 0.5);
      // Rows are fitted on the frame after a change, and changes keep coming (a sample every 500 ms; the alert
      // timeline, asked for after the charts' first picture, takes its height from the board): a reading taken
      // between a change and the next frame may see a row cut for that frame. Read until one shows none.
      const measure = () =>
        page.evaluate(() => {
          const bottomOf = (element: Element) => element.getBoundingClientRect().bottom;
          const boxes = [...document.querySelectorAll('.panel .body, .log-list')];
          return {
            scrollHeight: document.documentElement.scrollHeight,
            innerHeight: window.innerHeight,
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            offScreen: [...document.querySelectorAll('.panel, #alert-log')]
              .filter((element) => bottomOf(element) > window.innerHeight + 0.5)
              .map((element) => (element as HTMLElement).dataset.topic ?? element.id),
            cutRows: boxes.flatMap((box) =>
              [...box.querySelectorAll<HTMLElement>('tbody tr, li')]
                .filter((row) => !row.hidden && bottomOf(row) > bottomOf(box) + 0.5)
                .map((row) => row.textContent),
            ),
            processRows: [...document.querySelectorAll<HTMLElement>('[data-topic="processes"] tbody tr')].filter((row) => !row.hidden)
              .length,
          };
        });
      let layout = await measure();
      for (let tries = 0; tries < 20 && (layout.cutRows.length > 0 || layout.offScreen.length > 0); tries++) {
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
        layout = await measure();
      }
      await page.screenshot({ path: join(ARTIFACTS, `kiosk-${width}x${height}.png`) });
      expect(layout.scrollHeight).toBeLessThanOrEqual(layout.innerHeight);
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
      expect(layout.offScreen).toEqual([]);
      expect(layout.cutRows).toEqual([]);
      expect(layout.processRows).toBeGreaterThanOrEqual(8);
    },
  );

  it('draws no chart scrolled out of view, and draws it caught up when it is scrolled back', async () => {
    const page = await openPage(server.url, { width: 1440, height: 400 });
    await everyPanelFilled(page);
    const draws = () => page.evaluate(() => (window as any).__pulseboardDebug.chartDraws() as number[]);
    const ranges = () => page.evaluate(() => (window as any).__pulseboardDebug.chartRanges() as { min: number; max: number }[]);
    const before = await draws();
    // The first chart (CPU, at the top) has drawn a few more updates meanwhile.
    await page.waitForFunction((first) => (window as any).__pulseboardDebug.chartDraws()[0] >= first + 3, before[0] ?? 0, {
      timeout: 15_000,
    });
    const during = await draws();
    const last = during.length - 1;
    expect(during[last]).toBe(before[last]);
    const stale = (await ranges())[last]?.max ?? 0;

    await page.locator('[data-topic="requests"]').scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => (window as any).__pulseboardDebug.chartDraws().at(-1) > n, during[last] ?? 0, { timeout: 10_000 });
    const [first, shown] = [(await ranges())[0], (await ranges())[last]];
    expect(shown?.max).toBeGreaterThan(stale);
    // Caught up: within a couple of the server's 500 ms samples of the chart that kept drawing.
    expect(Math.abs((shown?.max ?? 0) - (first?.max ?? 0))).toBeLessThanOrEqual(1500);
  });

  it.each([
    ['phone', 375, 812],
    ['laptop', 1440, 900],
  ])('%s at %ix%i: a sensible grid and nothing wider than the screen', async (name, width, height) => {
    const page = await openPage(server.url, { width, height });
    await everyPanelFilled(page);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('.panel, .routes, .controls, .alert-log')]
        .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
        .map((element) => element.className),
    );
    expect(wide).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}x${height}.png`), fullPage: true });
  });
});

describe('a new server version', () => {
  it('reloads the page once when the server comes back with another version', async () => {
    const first = await startTestServer({}, { version: '1.0.0' });
    const port = first.port;
    const page = await openPage(first.url);
    let loads = 0;
    page.on('load', () => loads++);
    await page.evaluate(() => {
      (window as any).__beforeUpgrade = true;
    });
    await first.close();
    const second = await startTestServer({ port }, { version: '1.1.0' });
    cleanups.push(() => second.close());
    await page.waitForFunction(() => !(window as any).__beforeUpgrade, undefined, { timeout: 15_000 });
    await waitLive(page);
    expect(await page.textContent('#facts')).toMatch(/pulseboard 1\.1\.0/);
    // The reloaded page keeps running on the new server (30 samples), and does not reload again.
    await page.waitForFunction(() => (window as any).__pulseboardDebug.counters().applied >= 30, undefined, { timeout: 10_000 });
    expect(loads).toBe(1);
  });
});
