import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../server/collect/collector.js';
import type { RunningServer } from '../../server/serve.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { startTestServer } from '../helpers/server.js';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');

/** A host with many cores (a 192-thread server): more bars than fit in one row of the CPU panel. */
const CORES = 192;

let browser: Browser;
let server: RunningServer;
beforeAll(async () => {
  browser = await launchBrowser();
  const cpu: Collector<'cpu'> = {
    topic: 'cpu',
    source: 'test',
    cadenceMs: 1000,
    sample: (t) => ({
      t,
      total: 50,
      user: 40,
      system: 10,
      iowait: 0,
      cores: Array.from({ length: CORES }, (_, i) => i % 100),
      load: [1, 1, 1],
    }),
  };
  server = await startTestServer({ intervalMs: 1000 }, { collectors: [cpu] });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the CPU panel of a host with many cores', () => {
  for (const [name, query, viewport] of [
    ['laptop', '', { width: 1440, height: 900 }],
    ['kiosk', '&kiosk', { width: 1920, height: 1080 }],
  ] as const) {
    it(`shows every core's bar inside the panel (${name} ${viewport.width}x${viewport.height})`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize(viewport);
      await page.goto(`${server.url}?window=5m&share=0${query}`);
      await page.waitForFunction((n) => document.querySelectorAll('.panel[data-topic="cpu"] .core').length === n, CORES, {
        timeout: 10_000,
      });
      const outside = await page.evaluate(() => {
        const panel = document.querySelector('.panel[data-topic="cpu"]') as HTMLElement;
        const box = panel.getBoundingClientRect();
        return [...panel.querySelectorAll('.core')].filter((core) => {
          const bar = core.getBoundingClientRect();
          return (
            bar.width < 1 || bar.height < 1 || bar.left < box.left || bar.right > box.right || bar.top < box.top || bar.bottom > box.bottom
          );
        }).length;
      });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, `cores-${CORES}-${name}.png`) });
      expect(outside).toBe(0);
      await page.close();
    });
  }
});
