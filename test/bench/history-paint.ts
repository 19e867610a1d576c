import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDemo } from '../../server/history/demo.js';
import { paintBuilds } from './first-paint.js';
import { rangePaint } from './history.js';
import { alternatingLoads, type Driver, launchPaintDrivers, type PaintWait } from './paint-drivers.js';
import { median, type Started, startProcess } from './procs.js';
import { type Row, ratio } from './table.js';

const WINDOWS = ['24h', '7d', '30d'];
const REQUESTED = 'pulseboard:range-requested';
const DRAWN = 'pulseboard:range-drawn';

interface RangePaint {
  totalMs: number;
  responseMs: number;
}

/**
 * Playwright's wait is `rangePaint` as `BENCH_ONLY=history` has it; the bare pipe's waits for the same marks
 * with a PerformanceObserver, then reads the answer's last byte from Resource Timing.
 */
const rangePaintWait: PaintWait<RangePaint> = {
  playwright: rangePaint,
  bare: (url) => `location.href !== ${JSON.stringify(url)} ? null : new Promise((resolve) => {
    const done = () => {
      const requested = performance.getEntriesByName(${JSON.stringify(REQUESTED)})[0];
      const drawn = performance.getEntriesByName(${JSON.stringify(DRAWN)})[0];
      const answer = performance.getEntriesByType('resource').find((entry) => entry.name.includes('api/history'));
      if (!requested || !drawn || !answer) return false;
      resolve({ totalMs: drawn.startTime - requested.startTime, responseMs: answer.responseEnd - requested.startTime });
      return true;
    };
    if (done()) return;
    new PerformanceObserver((_, observer) => { if (done()) observer.disconnect(); }).observe({ type: 'mark' });
  })`,
};

type WindowLoads = { window: string; totalMs: number[]; responseMs: number[]; cpuMs: number[] };

export interface HistoryPaintResult {
  trials: number;
  /** Per build, driver and window, each warm load: query + first paint, the answer's last byte, Chromium's CPU (ms). */
  builds: { build: string; drivers: Record<Driver, WindowLoads[]> }[];
  command: string;
}

/**
 * Query + first paint of the 24 h, 7 d and 30 d windows for each build of `BENCH_PAINT_DISTS`, side by side:
 * one 30-day demo store, a copy per build and a server of that build on it, page loads alternating between
 * the builds and between the two drivers (`paint-drivers.ts`; one warm-up load per build, driver and window
 * first), as `BENCH_ONLY=history` measures one build.
 */
export async function benchHistoryPaint(trials: number): Promise<HistoryPaintResult> {
  const root = mkdtempSync(join(tmpdir(), 'pulseboard-bench-history-paint-'));
  const list = paintBuilds();
  const servers: Started[] = [];
  const drivers = await launchPaintDrivers();
  try {
    const demo = await writeDemo({ days: 30, dir: join(root, 'demo'), intervalMs: 1000, seed: 1 });
    if (demo.error) throw new Error(demo.error);
    for (const [index, { dist }] of list.entries()) {
      const served = join(root, `served-${index}`);
      cpSync(join(root, 'demo'), served, { recursive: true });
      servers.push(await startProcess(process.execPath, [join(dist, 'server/main.js'), '--port', '0', '--data-dir', served]));
    }
    const emptyWindows = (): WindowLoads[] => WINDOWS.map((window) => ({ window, totalMs: [], responseMs: [], cpuMs: [] }));
    const results = list.map(({ build }) => ({
      build,
      drivers: { bare: emptyWindows(), spread: emptyWindows(), playwright: emptyWindows() },
    }));
    for (const [w, window] of WINDOWS.entries()) {
      const urls = servers.map((server) => `${server.url}/?window=${window}&share=0`);
      await alternatingLoads(drivers, urls, trials, rangePaintWait, (index, driver, { value, cpuMs }) => {
        const row = results[index]?.drivers[driver][w];
        row?.totalMs.push(value.totalMs);
        row?.responseMs.push(value.responseMs);
        row?.cpuMs.push(cpuMs);
      });
    }
    return {
      trials,
      builds: results,
      command: `a 30-day demo store (writeDemo, = pulseboard demo --days 30), a copy per build; node <dist>/server/main.js --port 0 --data-dir <copy>; Chromium /?window=<w>&share=0, performance marks ${REQUESTED} -> ${DRAWN}, the answer's last byte by Resource Timing, /proc CPU of every Chromium process over the load; ${trials} warm loads per build and driver after 1 warm-up, builds and drivers alternating (${list.map(({ build }) => build).join(', ')}); drivers: a bare DevTools pipe (Page.navigate, Runtime.evaluate awaiting the marks; no domain enabled), the same pipe to a Chromium free on every core ("spread"; the servers keep theirs), and Playwright (page.goto, waitForFunction, as BENCH_ONLY=history); every Chromium but the spread one pinned with this process to one core`,
    };
  } finally {
    await drivers.close();
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

/** The bare pipe's loads, and Playwright's beside them; then the spread Chromium's, beside the bare pipe's. */
export function historyPaintRows(result: HistoryPaintResult): Row[] {
  const ms = (values: number[]) => Math.round(median(values));
  const shown = ({ totalMs, responseMs, cpuMs }: WindowLoads) =>
    totalMs.length === 0 ? '-' : `${ms(totalMs)} (${ms(responseMs)}; ${ms(cpuMs)})`;
  return result.builds.flatMap(({ build, drivers: { bare, spread, playwright } }) => [
    ...bare.map((loads, w) => {
      const beside = playwright[w] as WindowLoads;
      return {
        measure: `history query + first paint, ${build}: ${loads.window} window, median ms (answer's last byte; Chromium CPU); peer column: Playwright`,
        ours: shown(loads),
        peer: shown(beside),
        ratio: ratio(median(loads.totalMs), median(beside.totalMs)),
        command: result.command,
      };
    }),
    ...spread.flatMap((loads, w) => {
      if (loads.totalMs.length === 0) return [];
      const pinned = bare[w] as WindowLoads;
      return [
        {
          measure: `  the same, Chromium free on every core of this machine (${build}, ${loads.window}); peer column: the bare pipe on one core`,
          ours: shown(loads),
          peer: shown(pinned),
          ratio: ratio(median(loads.totalMs), median(pinned.totalMs)),
          command: result.command,
        },
      ];
    }),
  ]);
}
