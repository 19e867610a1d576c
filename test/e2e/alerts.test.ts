import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertSettings } from '../../server/alerts/rules.js';
import type { RunningServer } from '../../server/serve.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { testHost } from '../helpers/host.js';
import { httpReceiver } from '../helpers/receivers.js';
import { ROOT, startTestServer } from '../helpers/server.js';
import { steerableCpu } from '../helpers/steerable.js';

const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');

describe('alerts on the page', () => {
  const cpu = steerableCpu();
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let hook: Awaited<ReturnType<typeof httpReceiver>>;
  let broken: Awaited<ReturnType<typeof httpReceiver>>;

  beforeAll(async () => {
    hook = await httpReceiver();
    broken = await httpReceiver(() => 500);
    const alerts = parseAlertSettings(
      {
        rules: [{ name: 'cpu-test', metric: 'cpu', above: 50, severity: 'warning', channels: [] }],
        channels: [
          { name: 'hook', type: 'webhook', url: `${hook.base}/hook` },
          { name: 'pager', type: 'webhook', url: `${broken.base}/pager` },
        ],
      },
      'rules.json',
      {},
    );
    server = await startTestServer({ alerts }, { collectors: [cpu.collector], host: testHost('web-1') });
    browser = await launchBrowser({ viewport: { width: 1000, height: 900 } });
    page = await browser.context.newPage();
    await page.goto(`${server.url}?window=1m`);
    await page.waitForSelector('#alert-timeline:not([hidden])', { timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await hook?.close();
    await broken?.close();
  });

  it('a firing alert has a silence button; silenced, it is marked; the timeline and the chart bands show when it fired', async () => {
    expect(await page.textContent('#alert-timeline')).toContain('No alert fired in the range shown.');
    cpu.set(95);
    const button = await page.waitForSelector('#alert-banner .alert[data-rule="cpu-test"] button.silence', { timeout: 20_000 });
    expect(await button.textContent()).toBe('silence 1h');
    await page.waitForSelector('#alert-timeline .timeline-row[data-rule="cpu-test"] .timeline-span[data-severity="warning"]', {
      timeout: 20_000,
    });
    const spans = (await page.evaluate('window.__pulseboardDebug.firingSpans()')) as { to: number | null }[];
    expect(spans.map((span) => span.to)).toEqual([null]);

    await button.click();
    await page.waitForSelector('#alert-banner .alert[data-rule="cpu-test"][data-silenced="true"]', { timeout: 20_000 });
    expect(await page.textContent('#alert-banner .silenced')).toMatch(/^silenced until \d\d:\d\d/);
    expect(server.monitor.notifier.silences.isSilenced('cpu-test', Date.now())).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'alerts.png') });

    await page.click('#alert-banner button.silence'); // now "unsilence"
    await page.waitForSelector('#alert-banner .alert[data-rule="cpu-test"][data-silenced="false"]', { timeout: 20_000 });
    expect(server.monitor.notifier.silences.isSilenced('cpu-test', Date.now())).toBe(false);

    cpu.set(10);
    await page.waitForSelector('#alert-banner', { state: 'hidden', timeout: 20_000 });
    await page.waitForFunction(() => (window as any).__pulseboardDebug.firingSpans()[0]?.to !== null, undefined, { timeout: 20_000 });
    expect(await page.$$('#alert-timeline .timeline-span')).toHaveLength(1);
  }, 60_000);

  it('"send a test" per channel: the button queues a test message, which reaches the channel', async () => {
    await page.click('#alert-log button.channel-test[data-channel="hook"]');
    await page.waitForSelector('#alert-log button.channel-test[data-channel="hook"]:has-text("hook: queued")', { timeout: 20_000 });
    const deadline = Date.now() + 20_000;
    while (hook.received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(JSON.parse(hook.received[0]?.body ?? '{}')).toMatchObject({ kind: 'test', rule: 'test', host: 'web-1' });
  }, 60_000);

  it('a channel that keeps failing is marked on its button, with the reason, from the health event; /healthz says so too', async () => {
    expect(await page.getAttribute('#alert-log button.channel-test[data-channel="pager"]', 'data-ok')).toBe('true');
    await page.click('#alert-log button.channel-test[data-channel="pager"]');
    // Three failed tries in a row (1 s and 2 s apart) make the channel failing: the server sends a health event.
    const button = await page.waitForSelector('#alert-log button.channel-test[data-channel="pager"][data-ok="false"]', { timeout: 20_000 });
    expect(await button.textContent()).toBe('pager (failing)');
    expect(await button.getAttribute('title')).toMatch(/^failing: .*500/);
    expect(broken.received.length).toBeGreaterThanOrEqual(3);
    const health = (await (await fetch(`${server.url}healthz`)).json()) as { alerts: { channels: { name: string; ok: boolean }[] } };
    expect(health.alerts.channels.find((channel) => channel.name === 'pager')?.ok).toBe(false);
    expect(await page.getAttribute('#alert-log button.channel-test[data-channel="hook"]', 'data-ok')).toBe('true');
  }, 60_000);
});
