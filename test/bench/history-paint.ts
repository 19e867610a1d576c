import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDemo } from '../../server/history/demo.js';
import { launchBrowser } from '../helpers/chromium.js';
import { chromiumThreadCpu, totalMs } from './chromium-threads.js';
import { paintBuilds } from './first-paint.js';
import { rangePaint } from './history.js';
import { median, type Started, startProcess } from './procs.js';
import type { Row } from './table.js';

const WINDOWS = ['24h', '7d', '30d'];

export interface HistoryPaintResult {
  trials: number;
  /** Per build and window, each warm load: query + first paint, the answer's last byte, Chromium's CPU (ms). */
  builds: { build: string; windows: { window: string; totalMs: number[]; responseMs: number[]; cpuMs: number[] }[] }[];
  command: string;
}

/**
 * Query + first paint of the 24 h, 7 d and 30 d windows for each build of `BENCH_PAINT_DISTS`, side by side:
 * one 30-day demo store, a copy per build and a server of that build on it, page loads alternating between
 * the builds (one warm-up load per build and window first), as `BENCH_ONLY=history` measures one build.
 */
export async function benchHistoryPaint(trials: number): Promise<HistoryPaintResult> {
  const root = mkdtempSync(join(tmpdir(), 'pulseboard-bench-history-paint-'));
  const list = paintBuilds();
  const servers: Started[] = [];
  const browser = await launchBrowser();
  try {
    const demo = await writeDemo({ days: 30, dir: join(root, 'demo'), intervalMs: 1000, seed: 1 });
    if (demo.error) throw new Error(demo.error);
    for (const [index, { dist }] of list.entries()) {
      const served = join(root, `served-${index}`);
      cpSync(join(root, 'demo'), served, { recursive: true });
      servers.push(await startProcess(process.execPath, [join(dist, 'server/main.js'), '--port', '0', '--data-dir', served]));
    }
    const results = list.map(({ build }) => ({
      build,
      windows: WINDOWS.map((window) => ({ window, totalMs: [] as number[], responseMs: [] as number[], cpuMs: [] as number[] })),
    }));
    const load = async (url: string) => {
      const page = await browser.context.newPage();
      const before = chromiumThreadCpu();
      const paint = await rangePaint(page, url);
      const cpuMs = totalMs(before, chromiumThreadCpu());
      await page.close();
      return { ...paint, cpuMs };
    };
    for (const [w, window] of WINDOWS.entries()) {
      const urls = servers.map((server) => `${server.url}/?window=${window}&share=0`);
      for (const url of urls) await load(url); // warm-up
      for (let trial = 0; trial < trials; trial++) {
        const order = list.map((_, index) => index);
        if (trial % 2 === 1) order.reverse();
        for (const index of order) {
          const { totalMs: total, responseMs, cpuMs } = await load(urls[index] as string);
          const row = results[index]?.windows[w];
          row?.totalMs.push(total);
          row?.responseMs.push(responseMs);
          row?.cpuMs.push(cpuMs);
        }
      }
    }
    return {
      trials,
      builds: results,
      command: `a 30-day demo store (writeDemo, = pulseboard demo --days 30), a copy per build; node <dist>/server/main.js --port 0 --data-dir <copy>; Chromium /?window=<w>&share=0, performance marks pulseboard:range-requested -> pulseboard:range-drawn, the answer's last byte by Resource Timing, /proc CPU of every Chromium process over the load; ${trials} warm loads per build after 1 warm-up, builds alternating (${list.map(({ build }) => build).join(', ')})`,
    };
  } finally {
    await browser.close();
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

export function historyPaintRows(result: HistoryPaintResult): Row[] {
  const ms = (values: number[]) => Math.round(median(values));
  return result.builds.flatMap(({ build, windows }) =>
    windows.map(({ window, totalMs, responseMs, cpuMs }) => ({
      measure: `history query + first paint, ${build}: ${window} window, median ms (answer's last byte; Chromium CPU)`,
      ours: `${ms(totalMs)} (${ms(responseMs)}; ${ms(cpuMs)})`,
      peer: '-',
      ratio: '-',
      command: result.command,
    })),
  );
}
