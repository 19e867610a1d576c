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
const BACKFILL_DRAWN = 'pulseboard:backfill-drawn';
/** The window an open page shows before its window button is clicked, and how long it has been open by then. */
const OPEN_WINDOW = '5m';
const OPEN_FOR_MS = 1000;

interface RangePaint {
  totalMs: number;
  responseMs: number;
  /** When every chart had drawn it, from the navigation (the page's time origin). */
  navigationMs: number;
}

/**
 * Page-side source shared by the waits: `observe(ready)` calls `ready` at once and again at every new mark until
 * it returns true; `measured(resolve)` resolves a `RangePaint` once the range is asked for and drawn, reading
 * the answer's last byte from Resource Timing (the page's one `/api/history` request).
 */
const RANGE_MARKS = `
  const observe = (ready) => {
    if (ready()) return;
    new PerformanceObserver((_, observer) => { if (ready()) observer.disconnect(); }).observe({ type: 'mark' });
  };
  const measured = (resolve) => () => {
    const requested = performance.getEntriesByName(${JSON.stringify(REQUESTED)})[0];
    const drawn = performance.getEntriesByName(${JSON.stringify(DRAWN)})[0];
    const answer = performance.getEntriesByType('resource').find((entry) => entry.name.includes('api/history'));
    if (!requested || !drawn || !answer) return false;
    resolve({ totalMs: drawn.startTime - requested.startTime, responseMs: answer.responseEnd - requested.startTime, navigationMs: drawn.startTime });
    return true;
  };`;

/** Playwright's wait is `rangePaint` as `BENCH_ONLY=history` has it; the bare pipe's reads the same marks. */
const rangePaintWait: PaintWait<RangePaint> = {
  playwright: rangePaint,
  bare: (url) => `location.href !== ${JSON.stringify(url)} ? null : new Promise((resolve) => {
    ${RANGE_MARKS}
    observe(measured(resolve));
  })`,
};

/**
 * A window button clicked on a page already open (the live window drawn, then ${OPEN_FOR_MS} ms for what follows
 * its first picture): the marks the click sets. One expression for both drivers.
 */
function switchPaintWait(window: string): PaintWait<RangePaint> {
  const expression = `new Promise((resolve) => {
    ${RANGE_MARKS}
    const click = () => {
      document.querySelector('button[data-window=${JSON.stringify(window)}]').click();
      observe(measured(resolve));
    };
    observe(() => performance.getEntriesByName(${JSON.stringify(BACKFILL_DRAWN)}).length > 0 && (setTimeout(click, ${OPEN_FOR_MS}), true));
  })`;
  return {
    playwright: async (page, url) => {
      await page.goto(url);
      return (await page.evaluate(expression)) as RangePaint;
    },
    bare: (url) => `location.href !== ${JSON.stringify(url)} ? null : ${expression}`,
  };
}

type WindowLoads = { window: string; totalMs: number[]; responseMs: number[]; navigationMs: number[]; cpuMs: number[] };

export interface HistoryPaintResult {
  trials: number;
  /** Per build, driver and window, each warm load: query + first paint, the answer's last byte, Chromium's CPU (ms). */
  builds: { build: string; drivers: Record<Driver, WindowLoads[]>; switches: Record<Driver, WindowLoads[]> }[];
  command: string;
  switchCommand: string;
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
    const emptyWindows = (): WindowLoads[] =>
      WINDOWS.map((window) => ({ window, totalMs: [], responseMs: [], navigationMs: [], cpuMs: [] }));
    const emptyDrivers = () => ({ bare: emptyWindows(), spread: emptyWindows(), playwright: emptyWindows() });
    const results = list.map(({ build }) => ({ build, drivers: emptyDrivers(), switches: emptyDrivers() }));
    const recordIn =
      (part: 'drivers' | 'switches', w: number) =>
      (index: number, driver: Driver, { value, cpuMs }: { value: RangePaint; cpuMs: number }) => {
        const row = results[index]?.[part][driver][w];
        row?.totalMs.push(value.totalMs);
        row?.responseMs.push(value.responseMs);
        row?.navigationMs.push(value.navigationMs);
        row?.cpuMs.push(cpuMs);
      };
    for (const [w, window] of WINDOWS.entries()) {
      const urls = servers.map((server) => `${server.url}/?window=${window}&share=0`);
      await alternatingLoads(drivers, urls, trials, rangePaintWait, recordIn('drivers', w));
    }
    for (const [w, window] of WINDOWS.entries()) {
      const urls = servers.map((server) => `${server.url}/?window=${OPEN_WINDOW}&share=0`);
      await alternatingLoads(drivers, urls, trials, switchPaintWait(window), recordIn('switches', w));
    }
    return {
      trials,
      builds: results,
      switchCommand: `the same servers and drivers; Chromium /?window=${OPEN_WINDOW}&share=0, ${OPEN_FOR_MS} ms after the live window's first picture (mark ${BACKFILL_DRAWN}) a click on the <w> window button, the marks it sets ${REQUESTED} -> ${DRAWN} and its answer's last byte; Chromium's CPU over the whole load, the click's included; ${trials} warm loads per build and driver after 1 warm-up, alternating as above`,
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
  const shown = ({ totalMs, responseMs, cpuMs, navigationMs }: WindowLoads) =>
    totalMs.length === 0 ? '-' : `${ms(totalMs)} (${ms(responseMs)}; ${ms(cpuMs)}; ${ms(navigationMs)})`;
  // A click's time from the navigation is the page's open time before it: not shown.
  const shownClick = ({ totalMs, responseMs, cpuMs }: WindowLoads) =>
    totalMs.length === 0 ? '-' : `${ms(totalMs)} (${ms(responseMs)}; ${ms(cpuMs)})`;
  return result.builds.flatMap(({ build, drivers: { bare, spread, playwright }, switches }) => [
    ...bare.map((loads, w) => {
      const beside = playwright[w] as WindowLoads;
      return {
        measure: `history query + first paint, ${build}: ${loads.window} window, median ms (answer's last byte; Chromium CPU; drawn after the navigation); peer column: Playwright`,
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
    ...switches.bare.map((loads, w) => {
      const beside = switches.playwright[w] as WindowLoads;
      return {
        measure: `  the same, a window button clicked on an open page (${build}, ${loads.window}; answer's last byte; Chromium CPU over the whole load and the click); peer column: Playwright`,
        ours: shownClick(loads),
        peer: shownClick(beside),
        ratio: ratio(median(loads.totalMs), median(beside.totalMs)),
        command: result.switchCommand,
      };
    }),
  ]);
}
