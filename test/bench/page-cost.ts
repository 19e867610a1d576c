import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { launchBrowser } from '../helpers/chromium.js';
import { launchBareChromium } from './bare-chromium.js';
import { chromiumThreadCpu, threadSplit, totalMs } from './chromium-threads.js';
import { type Driver, driversOf } from './paint-drivers.js';
import { type Started, sleep, startProcess } from './procs.js';
import type { Row } from './table.js';

const ROOT = join(import.meta.dirname, '..', '..');

type Counters = { applied: number; draws: number; drawMs: number };

export interface PageCost {
  /** Which build (`BENCH_PAGE_DISTS`), which server (`fast`: 20 ms, `1hz`: 1 s over a demo day), which screen, which driver. */
  build: string;
  driver: Driver;
  scenario: string;
  view: string;
  throttle: number;
  /** Main-thread ms per chart update (the page's own counter: append + draw of every chart shown). */
  updateMs: number;
  updates: number;
  /** Chrome's main-thread task time per second (events, DOM, charts, GC). */
  mainThreadMsPerSecond: number;
  /** Every Chromium process of the bench (renderer, GPU, browser), % of one core, and per update, ms. */
  chromiumPercent: number;
  chromiumMsPerUpdate: number;
  /** The same CPU per update by process and thread group (`renderer main`, `renderer worker`, `gpu-process main`…), ms. */
  split: { group: string; ms: number }[];
  /**
   * Throttled rows: a CPU `throttle` times slower, % of one core. DevTools throttles the renderer's main thread
   * alone, by stopping it in a signal handler that spins (a page that runs nothing costs ~75 % of a core at
   * 4x), so /proc cannot say it: this is the main thread's task time as throttled (CDP `TaskDuration`) plus
   * `throttle` times the CPU of every other thread (not throttled), the throttler's own thread left out.
   */
  slowCpuPercent: number | null;
}

export interface PageCostResult {
  costs: PageCost[];
  /** A page that runs nothing, full speed and 4x throttled: Chromium's CPU, % of one core (`BENCH_PAGE_SCENARIOS=static`). */
  staticPage: { full: number; throttled: number } | null;
  commands: Record<string, string>;
}

interface Scenario {
  name: 'fast' | '1hz';
  /** Starts this build's server with an hour of history held, ready for a page. */
  start(dist: string): Promise<Started>;
  command: string;
  /** Temporary directories to remove once its servers have stopped. */
  dirs: string[];
}

const emptyRules = (): string => {
  const rules = join(mkdtempSync(join(tmpdir(), 'pulseboard-bench-')), 'rules.json');
  writeFileSync(rules, '{"rules": []}');
  return rules;
};

/** The server samples every 20 ms so the 1 h window's 3 600 points fill in 72 s: 50 samples and ~4 chart updates a second. */
function fastScenario(rules: string): Scenario {
  const args = ['--port', '0', '--interval', '20ms', '--history', '72s', '--backfill', '72s', '--alert-rules', rules, '--data-dir', 'none'];
  return {
    name: 'fast',
    start: (dist) => startProcess(process.execPath, [join(dist, 'server/main.js'), ...args]),
    command: `node dist/server/main.js ${args.join(' ').replace(rules, 'rules.json')} (74 s to fill)`,
    dirs: [],
  };
}

/**
 * The dashboard as deployed: a 1 s server whose hour comes from a demo day written just before (its six
 * topics 3 600 points each; the others fill as they are sampled): one sample and one chart update a second.
 */
function oneHertzScenario(rules: string, demoDir: string): Scenario {
  const args = ['--port', '0', '--interval', '1s', '--history', '1h', '--backfill', '1h', '--alert-rules', rules];
  const dirs = [demoDir];
  return {
    name: '1hz',
    dirs,
    start: (dist) => {
      const dir = mkdtempSync(join(tmpdir(), 'pulseboard-bench-data-'));
      dirs.push(dir);
      cpSync(demoDir, dir, { recursive: true });
      return startProcess(process.execPath, [join(dist, 'server/main.js'), ...args, '--data-dir', dir]);
    },
    command: `node dist/server/main.js demo --days 1 --data-dir <dir>; node dist/server/main.js ${args.join(' ').replace(rules, 'rules.json')} --data-dir <a copy of dir>`,
  };
}

/** `BENCH_PAGE_DISTS=before=/tmp/main/dist,after=dist`: builds measured side by side, row for row; default this one. */
function builds(): { build: string; dist: string }[] {
  const spec = process.env.BENCH_PAGE_DISTS ?? `this=${join(ROOT, 'dist')}`;
  return spec.split(',').map((entry) => {
    const [build, dist] = entry.includes('=') ? (entry.split('=', 2) as [string, string]) : [entry, entry];
    return { build, dist: isAbsolute(dist) ? dist : join(ROOT, dist) };
  });
}

/** A page live on the dashboard, as the bench reads it: its counters, and DevTools commands to its tab. */
interface LivePage {
  counters(): Promise<Counters>;
  send(method: string, params?: object): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

const LIVE = `document.querySelector('#status')?.getAttribute('data-state') === 'live'`;

/**
 * The page loaded and live, in a Chromium of its own. `bare`: over a bare DevTools pipe, with only the
 * Performance domain enabled (for the main thread's task time), as a screen nobody debugs runs it.
 * `playwright`: as Playwright drives it, its domains enabled on the page and its worker (the harness's share).
 */
async function openLive(driver: Driver, url: string, width: number, height: number): Promise<LivePage> {
  if (driver === 'bare') {
    const browser = await launchBareChromium();
    try {
      const tab = await browser.newTab({ width, height });
      await tab.send('Performance.enable');
      await tab.navigate(url);
      await tab.evaluateIn(
        url,
        `location.href !== ${JSON.stringify(url)} ? null : new Promise((resolve) => {
          const check = setInterval(() => { if (${LIVE}) { clearInterval(check); resolve(true); } }, 50);
        })`,
      );
      return {
        counters: () => tab.evaluateIn<Counters>(url, 'window.__pulseboardDebug.counters()'),
        send: (method, params) => tab.send(method, params),
        close: () => browser.close(),
      };
    } catch (error) {
      await browser.close();
      throw error;
    }
  }
  const browser = await launchBrowser({ viewport: { width, height } });
  try {
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live');
    return {
      counters: async () => (await page.evaluate('window.__pulseboardDebug.counters()')) as Counters,
      send: (method, params) => cdp.send(method as 'Performance.getMetrics', params as undefined) as Promise<Record<string, unknown>>,
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

async function measure(driver: Driver, url: string, width: number, height: number, throttle: number, seconds: number) {
  const page = await openLive(driver, url, width, height);
  try {
    if (throttle > 1) await page.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    await sleep(3000);
    const read = async () => {
      const counters = await page.counters();
      const { metrics } = (await page.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
      return {
        ...counters,
        task: metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0,
        threads: chromiumThreadCpu(),
        at: performance.now(),
      };
    };
    const before = await read();
    await sleep(seconds * 1000);
    const after = await read();
    const updates = Math.max(1, after.draws - before.draws);
    const elapsed = (after.at - before.at) / 1000;
    const chromiumMs = totalMs(before.threads, after.threads);
    const split = threadSplit(before.threads, after.threads);
    const otherMs = split
      .filter(({ group }) => group !== 'renderer main' && group !== 'renderer throttler')
      .reduce((sum, { ms }) => sum + ms, 0);
    const mainTaskMs = (after.task - before.task) * 1000;
    return {
      updateMs: (after.drawMs - before.drawMs) / updates,
      updates,
      mainThreadMsPerSecond: ((after.task - before.task) * 1000) / elapsed,
      chromiumPercent: chromiumMs / 10 / elapsed,
      chromiumMsPerUpdate: chromiumMs / updates,
      split: threadSplit(before.threads, after.threads, updates),
      slowCpuPercent: throttle > 1 ? (mainTaskMs + throttle * otherMs) / 10 / elapsed : null,
    };
  } finally {
    await page.close();
  }
}

/** What DevTools' throttling costs by itself: a page that runs nothing, its Chromium's CPU, % of one core. */
async function staticPagePercent(throttle: number, seconds: number): Promise<number> {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.setContent('<p>a page that runs nothing</p>');
    if (throttle > 1) await (await browser.context.newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: throttle });
    await sleep(2000);
    const before = chromiumThreadCpu();
    const started = performance.now();
    await sleep(seconds * 1000);
    return totalMs(before, chromiumThreadCpu()) / 10 / ((performance.now() - started) / 1000);
  } finally {
    await browser.close();
  }
}

/**
 * Issue 16's page cost at the 1 h window: a laptop page (1440x900, the lower panels out of view) and a kiosk
 * (1920x1080, every panel in view), each at full speed and under 4x CPU throttling (DevTools
 * `Emulation.setCPUThrottlingRate`, a wall stick's CPU), against a fast server and a 1 Hz one
 * (`BENCH_PAGE_SCENARIOS=fast,1hz`), for each build of `BENCH_PAGE_DISTS` in turn, row by row.
 */
export async function benchPageCost(seconds: number): Promise<PageCostResult> {
  const rules = emptyRules();
  const wanted = new Set((process.env.BENCH_PAGE_SCENARIOS ?? 'static,fast,1hz').split(','));
  const views = [
    { view: 'laptop 1440x900', width: 1440, height: 900, query: '' },
    { view: 'kiosk 1920x1080', width: 1920, height: 1080, query: '&kiosk' },
  ];
  const costs: PageCost[] = [];
  const commands: Record<string, string> = {};
  const dists = builds();
  // Page cost is read in one Chromium pinned to one core: `spread` is a driver of the two paint benches only.
  const drivers = driversOf(process.env.BENCH_PAGE_DRIVERS).filter((driver) => driver !== 'spread');
  const staticPage = wanted.has('static') ? { full: await staticPagePercent(1, 10), throttled: await staticPagePercent(4, 10) } : null;
  for (const name of ['fast', '1hz'] as const) {
    if (!wanted.has(name)) continue;
    let scenario: Scenario;
    const startedAt = Date.now();
    if (name === 'fast') scenario = fastScenario(rules);
    else {
      const demoDir = mkdtempSync(join(tmpdir(), 'pulseboard-bench-demo-'));
      execFileSync(process.execPath, [join(dists[0]?.dist as string, 'server/main.js'), 'demo', '--days', '1', '--data-dir', demoDir]);
      scenario = oneHertzScenario(rules, demoDir);
    }
    commands[name] = scenario.command;
    const servers: Started[] = [];
    try {
      for (const { dist } of dists) servers.push(await scenario.start(dist));
      if (name === 'fast')
        await sleep(startedAt + 74_000 - Date.now()); // 3 600 samples: the 1 h window's worth at 1 Hz
      else await sleep(2000);
      for (const { view, width, height, query } of views) {
        for (const throttle of [1, 4]) {
          for (const [i, { build }] of dists.entries()) {
            for (const driver of drivers) {
              const server = servers[i] as Started;
              const cost = await measure(driver, `${server.url}/?window=1h&share=0${query}`, width, height, throttle, seconds);
              costs.push({ build, driver, scenario: name, view, throttle, ...cost });
            }
          }
        }
      }
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      for (const dir of scenario.dirs) rmSync(dir, { recursive: true, force: true });
    }
  }
  return { costs, staticPage, commands };
}

export function pageCostRows(result: PageCostResult): Row[] {
  const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  const floor: Row[] = result.staticPage
    ? [
        {
          measure: 'page cost floor: a page that runs nothing, all Chromium processes, full speed / throttled 4x, % of one core',
          ours: `${fixed(result.staticPage.full, 1)} / ${fixed(result.staticPage.throttled, 1)}`,
          peer: '-',
          ratio: '-',
          command: 'Chromium page.setContent(<p>), CDP Emulation.setCPUThrottlingRate 4, /proc/<pid>/task/*/schedstat over 10 s after 2 s',
        },
      ]
    : [];
  return [
    ...floor,
    ...result.costs.map((cost) => ({
      measure: `page cost, ${cost.build}, ${cost.driver === 'bare' ? 'bare DevTools pipe' : 'Playwright'}, ${cost.scenario} server, 1 h window, ${cost.view}, CPU ${cost.throttle === 1 ? 'full speed' : `throttled ${cost.throttle}x`}: main thread ms per update (busy ms/s); all Chromium processes ms per update (% of one core)${cost.throttle > 1 ? '; main task time + others x throttle, % of one core' : ''} [by thread, ms per update]`,
      ours: `${fixed(cost.updateMs, 2)} (${fixed(cost.mainThreadMsPerSecond, 0)} ms/s, ${cost.updates} updates); ${fixed(cost.chromiumMsPerUpdate, 1)} (${fixed(cost.chromiumPercent, 1)} %)${cost.slowCpuPercent === null ? '' : `; a ${cost.throttle}x slower CPU: ${fixed(cost.slowCpuPercent, 1)} %`} [${cost.split
        .slice(0, 7)
        .map(({ group, ms }) => `${group} ${fixed(ms, 1)}`)
        .join(', ')}]`,
      peer: 'n/a (page needs a CDN)',
      ratio: '-',
      command: `${result.commands[cost.scenario]}; Chromium /?window=1h&share=0 (and &kiosk), one browser per row, driven by a bare DevTools pipe (test/bench/bare-chromium.ts: only Performance enabled) or by Playwright (BENCH_PAGE_DRIVERS); __pulseboardDebug.counters() drawMs/draws, CDP Performance TaskDuration, /proc/<pid>/task/*/schedstat CPU (ns) of the Chromium processes`,
    })),
  ];
}
