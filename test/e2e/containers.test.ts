import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../server/collect/collector.js';
import { cgroupContainersCollector } from '../../server/collect/containers.js';
import type { RunningServer } from '../../server/serve.js';
import { cgroupV2Tree, cpuStatV2, DOCKER_ID, procTree, tempDir, writeTree } from '../fixtures/cgroup-trees.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { ROOT, startTestServer } from '../helpers/server.js';

const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');
const MB = 1024 * 1024;
const DOCKER_DIR = `system.slice/docker-${DOCKER_ID}.scope`;
const DOCKER_NAME = DOCKER_ID.slice(0, 12);

/** A fixture host whose containers the test steers: the Docker one spins 1.5 cores, nginx 0.1, the pod none. */
describe('containers panel in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let cgroupRoot: string;
  let spin: NodeJS.Timeout;

  beforeAll(async () => {
    cgroupRoot = tempDir('pulseboard-cgroup-');
    const procRoot = tempDir('pulseboard-proc-');
    writeTree(cgroupRoot, cgroupV2Tree({ cpuUsec: 0, ioRead: 4096, ioWrite: 0 }));
    writeTree(procRoot, procTree({ rx: 0, tx: 0 }));
    writeFileSync(join(cgroupRoot, 'system.slice/nginx.service/memory.current'), `${800 * MB}\n`);
    const started = Date.now();
    spin = setInterval(() => {
      const usec = (Date.now() - started) * 1000;
      writeFileSync(join(cgroupRoot, DOCKER_DIR, 'cpu.stat'), cpuStatV2(Math.round(usec * 1.5)));
      writeFileSync(join(cgroupRoot, 'system.slice/nginx.service/cpu.stat'), cpuStatV2(Math.round(usec * 0.1)));
    }, 50);
    const collector = cgroupContainersCollector({ cadenceMs: 500, cgroupRoot, procRoot, dockerNames: null }) as Collector;
    server = await startTestServer({ intervalMs: 500 }, { collectors: [collector] });
    browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
    page = await browser.context.newPage();
    await page.goto(server.url);
  });

  afterAll(async () => {
    clearInterval(spin);
    await browser?.close();
    await server?.close();
  });

  const names = () => page.$$eval('[data-topic="containers"] tbody tr .name', (cells) => cells.map((cell) => cell.textContent));
  const rowOf = (name: string) => `[data-topic="containers"] tbody tr:has(.name:text-is("${name}"))`;

  it('lists the busiest by CPU first, and sorts by memory both ways on a click', async () => {
    await page.waitForFunction(
      () => {
        const cells = [...document.querySelectorAll('[data-topic="containers"] tbody tr td:nth-child(2) .num')];
        return cells.length === 3 && cells[0]?.textContent?.includes('%') && Number.parseFloat(cells[0]?.textContent ?? '') > 100;
      },
      undefined,
      { timeout: 15_000 },
    );
    expect(await names()).toEqual([DOCKER_NAME, 'nginx.service', 'pod 5c6f0b1e/a1b2c3d4e5f6']);
    expect(await page.textContent('[data-topic="containers"] [data-role="value"]')).toBe('3');
    expect(await page.textContent(`${rowOf('nginx.service')} .command`)).toBe('systemd · nginx: master process /usr/sbin/nginx -g daemon…');

    await page.click('[data-topic="containers"] button[data-sort="memory"]');
    expect(await names()).toEqual(['nginx.service', DOCKER_NAME, 'pod 5c6f0b1e/a1b2c3d4e5f6']);
    expect(await page.getAttribute('[data-topic="containers"] th:has(button[data-sort="memory"])', 'aria-sort')).toBe('descending');
    await page.click('[data-topic="containers"] button[data-sort="memory"]');
    expect(await names()).toEqual(['pod 5c6f0b1e/a1b2c3d4e5f6', DOCKER_NAME, 'nginx.service']);
    expect(await page.getAttribute('[data-topic="containers"] th:has(button[data-sort="memory"])', 'aria-sort')).toBe('ascending');
    await page.click('[data-topic="containers"] button[data-sort="cpu"]');
    expect((await names())[0]).toBe(DOCKER_NAME);
  });

  it('draws a sparkline per container that grows with each sample', async () => {
    const line = `[data-topic="containers"] tr[data-id="/${DOCKER_DIR}"] td:nth-child(2) svg`;
    const before = Number(await page.getAttribute(line, 'data-points'));
    await page.waitForFunction(
      ([selector, count]) => Number(document.querySelector(selector as string)?.getAttribute('data-points')) >= (count as number) + 2,
      [line, before] as const,
      { timeout: 10_000 },
    );
    const polyline = await page.getAttribute(`${line} polyline`, 'points');
    expect(polyline?.split(' ').length).toBeGreaterThanOrEqual(before + 2);
  });

  it('colours a container near its memory limit warning, then critical, and the alert fires naming it', async () => {
    const memoryCell = `${rowOf(DOCKER_NAME)} td[data-role="memory"]`;
    expect(await page.getAttribute(rowOf(DOCKER_NAME), 'data-level')).toBe('ok'); // 110 MiB of 512 MiB
    const colourOf = (variable: string) =>
      page.evaluate((name) => {
        const probe = document.createElement('span');
        probe.style.color = `var(${name})`;
        document.body.append(probe);
        const colour = getComputedStyle(probe).color;
        probe.remove();
        return colour;
      }, variable);

    writeFileSync(join(cgroupRoot, DOCKER_DIR, 'memory.current'), `${480 * MB}\n`); // 440 MiB of 512: 85.9 %
    await page.waitForSelector(`${rowOf(DOCKER_NAME)}[data-level="warning"]`, { timeout: 10_000 });
    expect(await page.$eval(memoryCell, (cell) => getComputedStyle(cell).color)).toBe(await colourOf('--warn'));
    expect(await page.textContent(`${memoryCell} .num`)).toMatch(/440 MiB \/ 512 MiB \(86 ?%\)/);

    writeFileSync(join(cgroupRoot, DOCKER_DIR, 'memory.current'), `${520 * MB}\n`); // 480 MiB of 512: 93.8 %
    await page.waitForSelector(`${rowOf(DOCKER_NAME)}[data-level="critical"]`, { timeout: 10_000 });
    expect(await page.$eval(memoryCell, (cell) => getComputedStyle(cell).color)).toBe(await colourOf('--bad'));
    await page.waitForFunction(() => (window as any).__pulseboardDebug.activeAlerts().includes('container-memory-limit'), undefined, {
      timeout: 10_000,
    });
    expect(await page.textContent('body')).toContain(`container memory use of its limit (${DOCKER_NAME}) 93.8 %`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('[data-topic="containers"]').screenshot({ path: join(ARTIFACTS, 'containers-panel.png') });
  });
});
