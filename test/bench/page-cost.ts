import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../helpers/chromium.js';
import { type Started, sleep, startProcess } from './procs.js';
import type { Row } from './table.js';

const ROOT = join(import.meta.dirname, '..', '..');

type Counters = { applied: number; draws: number; drawMs: number };

export interface PageCost {
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
}

export interface PageCostResult {
  costs: PageCost[];
  command: string;
}

/** CPU seconds of every Chromium process below this one (the bench launched it). */
function chromiumCpuSeconds(): number {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const pid = Number(entry);
      names.set(pid, stat.slice(stat.indexOf('(') + 1, close));
      parents.set(pid, Number(fields[1]));
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // exited meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, seconds] of cpu) if (/chrom/i.test(names.get(pid) ?? '') && below(pid)) total += seconds;
  return total;
}

/**
 * Issue 16's page cost: the 1 h window (3 600 points per series, a server sampling every 20 ms), a laptop
 * page (1440x900, the lower panels out of view) and a kiosk (1920x1080, every panel in view), each at full
 * speed and under 4x CPU throttling (DevTools `Emulation.setCPUThrottlingRate`, a wall stick's CPU).
 */
export async function benchPageCost(seconds: number): Promise<PageCostResult> {
  const rules = join(mkdtempSync(join(tmpdir(), 'pulseboard-bench-')), 'rules.json');
  writeFileSync(rules, '{"rules": []}');
  const args = [join(ROOT, 'dist/server/main.js'), '--port', '0', '--interval', '20ms', '--history', '72s', '--backfill', '72s'];
  const servers: Started[] = [];
  const views = [
    { view: 'laptop 1440x900', width: 1440, height: 900, query: '' },
    { view: 'kiosk 1920x1080', width: 1920, height: 1080, query: '&kiosk' },
  ];
  const costs: PageCost[] = [];
  try {
    const server = await startProcess(process.execPath, [...args, '--alert-rules', rules, '--data-dir', 'none']);
    servers.push(server);
    await sleep(74_000); // 3 600 samples: the 1 h window's worth at 1 Hz
    for (const { view, width, height, query } of views) {
      for (const throttle of [1, 4]) {
        const browser = await launchBrowser({ viewport: { width, height } });
        try {
          const page = await browser.context.newPage();
          const cdp = await browser.context.newCDPSession(page);
          await cdp.send('Performance.enable');
          await page.goto(`${server.url}/?window=1h&share=0${query}`);
          await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live');
          if (throttle > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
          await sleep(3000);
          const read = async () => {
            const counters = (await page.evaluate('window.__pulseboardDebug.counters()')) as Counters;
            const { metrics } = await cdp.send('Performance.getMetrics');
            return {
              ...counters,
              task: metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0,
              chromium: chromiumCpuSeconds(),
              at: performance.now(),
            };
          };
          const before = await read();
          await sleep(seconds * 1000);
          const after = await read();
          const updates = Math.max(1, after.draws - before.draws);
          const elapsed = (after.at - before.at) / 1000;
          costs.push({
            view,
            throttle,
            updateMs: (after.drawMs - before.drawMs) / updates,
            updates,
            mainThreadMsPerSecond: ((after.task - before.task) * 1000) / elapsed,
            chromiumPercent: ((after.chromium - before.chromium) / elapsed) * 100,
            chromiumMsPerUpdate: ((after.chromium - before.chromium) * 1000) / updates,
          });
        } finally {
          await browser.close();
        }
      }
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  return {
    costs,
    command: `node dist/server/main.js --port 0 --interval 20ms --history 72s --backfill 72s --alert-rules rules.json --data-dir none (74 s to fill); Chromium /?window=1h&share=0 (and &kiosk), one browser per row; __pulseboardDebug.counters() drawMs/draws, CDP Performance TaskDuration, /proc CPU of the Chromium processes, over ${seconds} s after 3 s`,
  };
}

export function pageCostRows(result: PageCostResult): Row[] {
  const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  return result.costs.map((cost) => ({
    measure: `page cost, 1 h window, ${cost.view}, CPU ${cost.throttle === 1 ? 'full speed' : `throttled ${cost.throttle}x`}: main thread ms per update (busy ms/s); all Chromium processes ms per update (% of one core)`,
    ours: `${fixed(cost.updateMs, 2)} (${fixed(cost.mainThreadMsPerSecond, 0)} ms/s, ${cost.updates} updates); ${fixed(cost.chromiumMsPerUpdate, 1)} (${fixed(cost.chromiumPercent, 1)} %)`,
    peer: 'n/a (page needs a CDN)',
    ratio: '-',
    command: result.command,
  }));
}
