// The speed figures the tests used to assert (and so could fail on a busy machine): how soon a started
// server serves its first event, how soon it exits on a signal, the delay through nginx, and how soon a tab
// takes over the shared stream. Measured here; the tests check only that each thing happens.

import { join } from 'node:path';
import { EventSource } from 'eventsource';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/chromium.js';
import { startNginx } from '../helpers/nginx.js';
import { openSse } from '../helpers/sse-reader.js';
import { median, percentile, type Started, sleep, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist/server/main.js');

export interface LifecycleResult {
  /** Spawn to the first cpu event on a stream, ms (median). */
  firstEventMs: number;
  /** Signal to exit with 50 open streams, ms (median), and the exit codes seen. */
  sigtermExitMs: number;
  sigintExitMs: number;
  exitCodes: (number | null)[];
  /** Sample time to receipt of cpu events at 100 ms, straight and through nginx (README location block), ms. */
  direct: { p50: number; p90: number; max: number };
  nginx: { p50: number; p90: number; max: number };
  events: number;
  /** Close (or crash) of the tab holding the shared stream to another tab holding it, ms (median). */
  handoverCloseMs: number;
  handoverCrashMs: number;
  trials: number;
  commands: { lifecycle: string; nginx: string; tabs: string };
}

async function firstEvent(): Promise<{ ms: number; server: Started }> {
  const began = performance.now();
  const server = await startProcess(process.execPath, [MAIN, '--port', '0', '--interval', '200ms']);
  const stream = await openSse(`${server.url}/api/events?topics=cpu`);
  await stream.until((frames) => frames.some((frame) => frame.event === 'cpu'), 30_000);
  const ms = performance.now() - began;
  stream.close();
  return { ms, server };
}

async function exitAfter(signal: NodeJS.Signals): Promise<{ ms: number; code: number | null }> {
  const server = await startProcess(process.execPath, [MAIN, '--port', '0', '--interval', '200ms']);
  const streams = await Promise.all(Array.from({ length: 50 }, () => openSse(`${server.url}/api/events?topics=cpu`)));
  await Promise.all(streams.map((stream) => stream.until((frames) => frames.some((frame) => frame.event === 'cpu'), 30_000)));
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  const began = performance.now();
  server.child.kill(signal);
  const code = await exited;
  return { ms: performance.now() - began, code };
}

async function lags(url: string, count: number): Promise<{ p50: number; p90: number; max: number }> {
  const source = new EventSource(`${url}/api/events?topics=cpu`);
  const values: number[] = [];
  let live = false;
  source.addEventListener('backfill', () => (live = true));
  source.addEventListener('cpu', (event) => {
    if (live) values.push(Date.now() - (JSON.parse(event.data) as { t: number }).t);
  });
  while (values.length < count) await sleep(50);
  source.close();
  values.sort((a, b) => a - b);
  return { p50: percentile(values, 50), p90: percentile(values, 90), max: values.at(-1) ?? Number.NaN };
}

async function handovers(trials: number): Promise<{ close: number[]; crash: number[] }> {
  const server = await startProcess(process.execPath, [MAIN, '--port', '0', '--interval', '500ms']);
  const browser = await launchBrowser();
  const role = (page: Page) =>
    page.evaluate(() => (window as unknown as { __pulseboardDebug: { role(): string } }).__pulseboardDebug.role());
  const leader = async (pages: Page[]) => {
    for (;;) {
      const roles = await Promise.all(pages.map((page) => role(page).catch(() => '')));
      if (roles.filter((r) => r === 'leader').length === 1) return pages[roles.indexOf('leader')] as Page;
      await sleep(10);
    }
  };
  const result = { close: [] as number[], crash: [] as number[] };
  try {
    for (let i = 0; i < trials; i++) {
      for (const kind of ['close', 'crash'] as const) {
        const pages: Page[] = [];
        for (let j = 0; j < 3; j++) {
          const page = await browser.context.newPage();
          await page.goto(server.url);
          await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live');
          pages.push(page);
        }
        const holder = await leader(pages);
        const rest = pages.filter((page) => page !== holder);
        const began = performance.now();
        if (kind === 'close') await holder.close();
        else {
          const session = await browser.context.newCDPSession(holder);
          void session.send('Page.crash').catch(() => {});
        }
        await leader(rest);
        result[kind].push(performance.now() - began);
        for (const page of browser.context.pages()) await page.close().catch(() => {});
      }
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  return result;
}

export async function benchLifecycle(trials: number, events: number): Promise<LifecycleResult> {
  const first: number[] = [];
  for (let i = 0; i < trials; i++) {
    const { ms, server } = await firstEvent();
    first.push(ms);
    await server.stop();
  }
  const sigterm: number[] = [];
  const sigint: number[] = [];
  const exitCodes: (number | null)[] = [];
  for (let i = 0; i < trials; i++) {
    for (const [signal, into] of [
      ['SIGTERM', sigterm],
      ['SIGINT', sigint],
    ] as const) {
      const { ms, code } = await exitAfter(signal);
      into.push(ms);
      exitCodes.push(code);
    }
  }

  const server = await startProcess(process.execPath, [MAIN, '--port', '0', '--interval', '100ms']);
  const port = Number(new URL(server.url).port);
  const nginx = await startNginx(port);
  let direct: LifecycleResult['direct'];
  let proxied: LifecycleResult['nginx'];
  try {
    direct = await lags(server.url, events);
    proxied = await lags(nginx.url.replace(/\/$/, ''), events);
  } finally {
    await nginx.stop();
    await server.stop();
  }

  const tabs = await handovers(trials);
  return {
    firstEventMs: median(first),
    sigtermExitMs: median(sigterm),
    sigintExitMs: median(sigint),
    exitCodes,
    direct,
    nginx: proxied,
    events,
    handoverCloseMs: median(tabs.close),
    handoverCrashMs: median(tabs.crash),
    trials,
    commands: {
      lifecycle: `node dist/server/main.js --port 0 --interval 200ms; spawn to the first cpu event on /api/events; signal to exit with 50 open streams; median of ${trials}`,
      nginx: `node dist/server/main.js --port 0 --interval 100ms, eventsource client straight and through nginx (the README location block); ${events} cpu events each, receipt time - sample time`,
      tabs: `node dist/server/main.js --port 0 --interval 500ms; 3 Chromium tabs sharing the stream; close or Page.crash the holder, until another tab holds it; median of ${trials}`,
    },
  };
}
