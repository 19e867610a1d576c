import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { ROOT, type ServerProcess, spawnServer } from '../helpers/server.js';

const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');
/** The README shows this file: each run of this test writes it again from the current page. */
const README_SCREENSHOT = join(ROOT, 'test', 'e2e', 'dashboard.png');

describe('dashboard in Chromium', () => {
  let browser: Browser;
  let server: ServerProcess;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await spawnServer(['--port', '0', '--interval', '500ms', '--retry', '500ms', '--heartbeat', '2s']);
    browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
    page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const pillState = () => page.getAttribute('#status', 'data-state');
  const pointCount = () =>
    page.evaluate(() => {
      const debug = (window as unknown as { __pulseboardDebug?: { points(topic: string): number } }).__pulseboardDebug;
      return debug?.points('cpu.total') ?? -1;
    });

  // How soon the first paint comes is measured by `npm run bench` (first full paint rows), not asserted here.
  it('shows numbers and drawn charts, and the pill says live', async () => {
    await page.goto(server.url);
    await page.waitForFunction(
      () => {
        const value = document.querySelector('[data-topic="cpu"] [data-role="value"]')?.textContent ?? '';
        return /\d/.test(value);
      },
      undefined,
      { timeout: 10_000 },
    );
    // The CPU chart has painted pixels (counted where it is drawn: its canvas belongs to the chart worker).
    await page.waitForFunction(
      async () => ((await (window as any).__pulseboardDebug?.chartSnapshots())?.[0]?.paintedPixels ?? 0) > 0,
      undefined,
      { timeout: 10_000 },
    );
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, {
      timeout: 10_000,
    });
    for (const topic of ['memory', 'network', 'disk', 'process']) {
      expect(await page.textContent(`[data-topic="${topic}"] [data-role="value"]`)).toMatch(/\d/);
    }
    expect(await page.textContent('[data-topic="process"] [data-role="detail"]')).toMatch(/loop busy \d/);
    // The whole page for the README, toolbar to process table, once every panel has had its data.
    await page.waitForFunction(() => document.querySelectorAll('[data-topic="processes"] tbody tr').length > 0, undefined, {
      timeout: 10_000,
    });
    await page.waitForFunction(() => ((window as any).__pulseboardDebug?.points('cpu.total') ?? 0) >= 8, undefined, { timeout: 10_000 });
    await page.screenshot({ path: README_SCREENSHOT, fullPage: true });
  });

  it('leaves live within a few seconds when the server stops, and returns to live with moving charts when it is back', async () => {
    const port = server.port;
    await server.stop();
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') !== 'live', undefined, {
      timeout: 5000,
    });
    expect(['reconnecting', 'stale', 'offline', 'connecting']).toContain(await pillState());
    await page.waitForFunction(() => /attempt \d+/.test(document.querySelector('#status')?.textContent ?? ''), undefined, {
      timeout: 5000,
    });

    server = await spawnServer(['--port', String(port), '--interval', '500ms', '--retry', '500ms', '--heartbeat', '2s']);
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, {
      timeout: 15_000,
    });
    const before = await pointCount();
    await page.waitForFunction((count) => ((window as any).__pulseboardDebug?.points('cpu.total') ?? 0) > count, before, {
      timeout: 10_000,
    });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-restart.png'), fullPage: true });
  });

  it('logged no page errors, and no console errors besides the refused connections of the outage', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleErrors.filter((text) => !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/.test(text))).toEqual([]);
  });
});
