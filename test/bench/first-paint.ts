import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/chromium.js';
import { pageServerArgs } from './browser.js';
import { chromiumThreadCpu, totalMs } from './chromium-threads.js';
import { median, type Started, sleep, startProcess } from './procs.js';
import type { Row } from './table.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The mark web/board.ts sets once the backfill is drawn in every chart. */
const BACKFILL_DRAWN = 'pulseboard:backfill-drawn';

interface Build {
  build: string;
  dist: string;
}

export interface FirstPaintResult {
  trials: number;
  /** Per build and window: each load's first paint, and the CPU of every Chromium process over it (ms). */
  builds: { build: string; shortMs: number[]; longMs: number[]; shortCpuMs: number[]; longCpuMs: number[] }[];
  command: string;
}

/** `BENCH_PAINT_DISTS=before=/tmp/main/dist,after=dist`: builds measured side by side, load for load; default this one. */
export function paintBuilds(): Build[] {
  const spec = process.env.BENCH_PAINT_DISTS ?? `this=${join(ROOT, 'dist')}`;
  return spec.split(',').map((entry) => {
    const [build, dist] = entry.includes('=') ? (entry.split('=', 2) as [string, string]) : [entry, entry];
    return { build, dist: isAbsolute(dist) ? dist : join(ROOT, dist) };
  });
}

/**
 * Navigation to the mark, ms. Waited for with a PerformanceObserver in the page: Playwright's
 * `waitForFunction` polls on every animation frame, which keeps the page producing frames while it loads.
 */
async function firstPaint(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  return page.evaluate(
    (name) =>
      new Promise<number>((resolve) => {
        const seen = performance.getEntriesByName(name)[0];
        if (seen) return resolve(seen.startTime);
        new PerformanceObserver((list, observer) => {
          const mark = list.getEntriesByName(name)[0];
          if (!mark) return;
          observer.disconnect();
          resolve(mark.startTime);
        }).observe({ type: 'mark' });
      }),
    BACKFILL_DRAWN,
  );
}

/**
 * First full paint of each build (`BENCH_PAINT_DISTS`), in one browser, loads alternating between the builds
 * (the build that goes first alternates too): the 5 m window over a 300-row backfill (100 ms x 30 s) and the
 * 1 h window over 3 600 rows (20 ms x 72 s), as `BENCH_ONLY=browser` measures them. Each build has its own
 * two servers; one warm-up load per build and window.
 */
export async function benchFirstPaint(trials: number): Promise<FirstPaintResult> {
  const rules = join(mkdtempSync(join(tmpdir(), 'pulseboard-bench-')), 'rules.json');
  writeFileSync(rules, '{"rules": []}');
  const list = paintBuilds();
  const servers: Started[] = [];
  const browser = await launchBrowser();
  try {
    const started: { short: Started; long: Started }[] = [];
    for (const { dist } of list) {
      const short = await startProcess(process.execPath, pageServerArgs(dist, '100ms', '30s', rules));
      servers.push(short);
      const long = await startProcess(process.execPath, pageServerArgs(dist, '20ms', '72s', rules));
      servers.push(long);
      started.push({ short, long });
    }
    const startedAt = Date.now();
    const results = list.map(({ build }) => ({
      build,
      shortMs: [] as number[],
      longMs: [] as number[],
      shortCpuMs: [] as number[],
      longCpuMs: [] as number[],
    }));
    // The CPU of every Chromium process from before the navigation to the mark: on this shared machine the
    // wall time moves with what else runs, the CPU a load takes much less.
    const load = async (url: string) => {
      const page = await browser.context.newPage();
      await sleep(300); // the tab's own start-up, and the last page's exit, out of the reading
      const before = chromiumThreadCpu();
      const ms = await firstPaint(page, url);
      const cpuMs = totalMs(before, chromiumThreadCpu());
      await page.close();
      return { ms, cpuMs };
    };
    const round = async (which: 'short' | 'long', query: string) => {
      const urls = started.map((servers) => `${servers[which].url}/${query}`);
      for (const url of urls) await load(url); // warm-up: caches, JIT
      for (let trial = 0; trial < trials; trial++) {
        const order = list.map((_, index) => index);
        if (trial % 2 === 1) order.reverse();
        for (const index of order) {
          const { ms, cpuMs } = await load(urls[index] as string);
          const result = results[index] as (typeof results)[number];
          result[which === 'short' ? 'shortMs' : 'longMs'].push(ms);
          result[which === 'short' ? 'shortCpuMs' : 'longCpuMs'].push(cpuMs);
        }
      }
    };
    await sleep(startedAt + 31_000 - Date.now());
    await round('short', '?window=5m&share=0');
    await sleep(startedAt + 74_000 - Date.now());
    await round('long', '?window=1h&share=0');
    return {
      trials,
      builds: results,
      command: `per build: node <dist>/server/main.js --interval 100ms --history 30s --backfill 30s (5 m) and --interval 20ms --history 72s --backfill 72s (1 h), --alert-rules {"rules": []} --data-dir none; Chromium /?window=5m|1h&share=0, performance mark ${BACKFILL_DRAWN}; ${trials} loads per build after 1 warm-up, builds alternating (${list.map(({ build, dist }) => `${build}=${dist.replace(`${ROOT}/`, '')}`).join(', ')})`,
    };
  } finally {
    await browser.close();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

export function firstPaintRows(result: FirstPaintResult): Row[] {
  const shown = (times: number[]) => `${Math.round(median(times))} (${times.map((ms) => Math.round(ms)).join(' / ')})`;
  const cpuCommand = `${result.command}; /proc/<pid>/task/*/stat of every Chromium process before the navigation and at the mark (10 ms ticks)`;
  return result.builds.flatMap(({ build, shortMs, longMs, shortCpuMs, longCpuMs }) =>
    [
      { window: '5 m', backfill: '300-row', paint: shortMs, cpu: shortCpuMs },
      { window: '1 h', backfill: '3 600-row', paint: longMs, cpu: longCpuMs },
    ].flatMap(({ window, backfill, paint, cpu }) => [
      {
        measure: `first full paint, ${build}: ${window} window (${backfill} backfill), median (each load), ms`,
        ours: shown(paint),
        peer: '-',
        ratio: '-',
        command: result.command,
      },
      {
        measure: `  CPU of all Chromium processes over that load, ${build}, ${window} window, median (each load), ms`,
        ours: shown(cpu),
        peer: '-',
        ratio: '-',
        command: cpuCommand,
      },
    ]),
  );
}
