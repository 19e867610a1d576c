import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Page } from 'playwright-core';
import { writeDemo } from '../../server/history/demo.js';
import { markExpression } from './bare-chromium.js';
import { pageServerArgs } from './browser.js';
import { alternatingLoads, type Driver, launchPaintDrivers, type PaintWait } from './paint-drivers.js';
import { median, type Started, sleep, startProcess } from './procs.js';
import { type Row, ratio } from './table.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The mark web/board.ts sets once the backfill is drawn in every chart. */
const BACKFILL_DRAWN = 'pulseboard:backfill-drawn';

interface Build {
  build: string;
  dist: string;
}

/** Each load's first paint, and the CPU of every Chromium process over it (ms), per window. */
export interface PaintLoads {
  shortMs: number[];
  longMs: number[];
  /** The 1 h window of a server at default flags on a day of demo history: 5 minutes of backfill, the rest asked for. */
  defaultMs: number[];
  shortCpuMs: number[];
  longCpuMs: number[];
  defaultCpuMs: number[];
}

export interface FirstPaintResult {
  trials: number;
  builds: { build: string; drivers: Record<Driver, PaintLoads> }[];
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

/** The bare pipe's wait for the same mark (see `markExpression`). */
const firstPaintWait: PaintWait<number> = {
  playwright: firstPaint,
  bare: (url) => markExpression(url, BACKFILL_DRAWN),
};

/**
 * First full paint of each build (`BENCH_PAINT_DISTS`), loads alternating between the builds and between two
 * drivers of the same Chromium (the build and the driver that go first alternate too): a bare DevTools pipe,
 * the bench's figure, and Playwright, which copies every response and SSE message of the load to this
 * process (see `bare-chromium.ts`). The 5 m window over a 300-row backfill (100 ms x 30 s) and the 1 h window
 * over 3 600 rows (20 ms x 72 s), as `BENCH_ONLY=browser` measures them. Each build has its own two servers;
 * one warm-up load per build, driver and window.
 */
export async function benchFirstPaint(trials: number): Promise<FirstPaintResult> {
  const root = mkdtempSync(join(tmpdir(), 'pulseboard-bench-'));
  const rules = join(root, 'rules.json');
  writeFileSync(rules, '{"rules": []}');
  const demo = await writeDemo({ days: 1, dir: join(root, 'demo'), intervalMs: 1000, seed: 5 });
  if (demo.error) throw new Error(demo.error);
  const list = paintBuilds();
  const servers: Started[] = [];
  const drivers = await launchPaintDrivers();
  try {
    const started: { short: Started; long: Started; default: Started }[] = [];
    for (const [index, { dist }] of list.entries()) {
      const short = await startProcess(process.execPath, pageServerArgs(dist, '100ms', '30s', rules));
      servers.push(short);
      const long = await startProcess(process.execPath, pageServerArgs(dist, '20ms', '72s', rules));
      servers.push(long);
      const data = join(root, `data-${index}`);
      cpSync(join(root, 'demo'), data, { recursive: true });
      const atDefaults = await startProcess(process.execPath, [
        join(dist, 'server/main.js'),
        '--port',
        '0',
        '--alert-rules',
        rules,
        '--data-dir',
        data,
      ]);
      servers.push(atDefaults);
      started.push({ short, long, default: atDefaults });
    }
    const startedAt = Date.now();
    const emptyLoads = (): PaintLoads => ({ shortMs: [], longMs: [], defaultMs: [], shortCpuMs: [], longCpuMs: [], defaultCpuMs: [] });
    const results = list.map(({ build }) => ({ build, drivers: { bare: emptyLoads(), spread: emptyLoads(), playwright: emptyLoads() } }));
    const round = async (which: 'short' | 'long' | 'default', query: string) => {
      const urls = started.map((servers) => `${servers[which].url}/${query}`);
      await alternatingLoads(drivers, urls, trials, firstPaintWait, (index, driver, { value: ms, cpuMs }) => {
        const loads = (results[index] as (typeof results)[number]).drivers[driver];
        loads[`${which}Ms`].push(ms);
        loads[`${which}CpuMs`].push(cpuMs);
      });
    };
    await sleep(startedAt + 31_000 - Date.now());
    await round('short', '?window=5m&share=0');
    await sleep(startedAt + 74_000 - Date.now());
    await round('long', '?window=1h&share=0');
    await round('default', '?window=1h&share=0');
    return {
      trials,
      builds: results,
      command: `per build: node <dist>/server/main.js --interval 100ms --history 30s --backfill 30s (5 m) and --interval 20ms --history 72s --backfill 72s (1 h), --alert-rules {"rules": []} --data-dir none; and at default flags (--interval 1s --history 1h --backfill 5m) with --data-dir a copy of a day of demo history (writeDemo, = pulseboard demo --days 1), whose 1 h window asks /api/history?since= for the 55 minutes the backfill does not bring; Chromium /?window=5m|1h&share=0, performance mark ${BACKFILL_DRAWN}; ${trials} loads per build and driver after 1 warm-up, builds and drivers alternating (${list.map(({ build, dist }) => `${build}=${dist.replace(`${ROOT}/`, '')}`).join(', ')}); drivers: a bare DevTools pipe (Target.createTarget, Page.navigate, Runtime.evaluate awaiting the mark; no domain enabled), the same pipe to a Chromium free on every core ("spread"; the servers keep theirs), and Playwright (page.goto, page.evaluate); every Chromium with test/helpers/chromium.ts's flags (Playwright adds its own), pinned with this process to one core but the spread one`,
    };
  } finally {
    await drivers.close();
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

/** `median (each load)` of the bare pipe's loads, and of Playwright's beside it; then the spread Chromium's. */
export function firstPaintRows(result: FirstPaintResult): Row[] {
  const shown = (times: number[]) =>
    times.length === 0 ? '-' : `${Math.round(median(times))} (${times.map((ms) => Math.round(ms)).join(' / ')})`;
  const cpuCommand = `${result.command}; /proc/<pid>/task/*/schedstat of every Chromium process before the navigation and at the mark (ns)`;
  return result.builds.flatMap(({ build, drivers: { bare, spread, playwright } }) =>
    [
      { window: '5 m', backfill: '300-row backfill', paint: 'shortMs', cpu: 'shortCpuMs' } as const,
      { window: '1 h', backfill: '3 600-row backfill', paint: 'longMs', cpu: 'longCpuMs' } as const,
      {
        window: '1 h at default flags',
        backfill: '300-row backfill, the 3 300 rows before it from /api/history?since=',
        paint: 'defaultMs',
        cpu: 'defaultCpuMs',
      } as const,
    ].flatMap(({ window, backfill, paint, cpu }) => [
      {
        measure: `first full paint, ${build}: ${window} window (${backfill}), median (each load), ms; peer column: the same loads driven by Playwright`,
        ours: shown(bare[paint]),
        peer: shown(playwright[paint]),
        ratio: ratio(median(bare[paint]), median(playwright[paint])),
        command: result.command,
      },
      {
        measure: `  CPU of all Chromium processes over that load, ${build}, ${window} window, median (each load), ms; peer column: Playwright`,
        ours: shown(bare[cpu]),
        peer: shown(playwright[cpu]),
        ratio: ratio(median(bare[cpu]), median(playwright[cpu])),
        command: cpuCommand,
      },
      ...(spread[paint].length === 0
        ? []
        : [
            {
              measure: `  the same, Chromium free on every core of this machine (${build}, ${window}): first full paint, median (each load), ms; peer column: its CPU`,
              ours: shown(spread[paint]),
              peer: shown(spread[cpu]),
              ratio: ratio(median(spread[paint]), median(bare[paint])),
              command: result.command,
            },
          ]),
    ]),
  );
}
