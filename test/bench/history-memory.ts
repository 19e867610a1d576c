import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTLE_QUIET_MS, SETTLE_SPACING_MS } from '../../server/lib/memory-settle.js';
import { type Started, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** What the page asks for: every charted topic, about two rows per pixel of a chart on a 1440-pixel-wide page. */
const TOPICS = 'cpu,memory,network,disk,temperature,process,requests';
const POINTS = 1400;
export const MEMORY_WINDOWS = [
  ['24h', DAY],
  ['7d', 7 * DAY],
  ['30d', 30 * DAY],
  ['1y', 365 * DAY],
] as const;
export const MIXED_QUERIES = 50;
/** The idle figure: after the start's work (the journal's hour into columns) and its collection. */
const IDLE_MS = 30_000;

export interface HistoryMemoryResult {
  /** VmRSS of the server, MB (10^6 bytes): 1 s and 30 s after start (idle), after each window's query, after the mixed queries. */
  startMb: number;
  idleMb: number;
  afterWindowMb: { window: string; mb: number }[];
  afterMixedMb: number;
  /** The largest VmHWM (peak RSS) seen, MB. */
  peakMb: number;
  /** VmRSS once the server has had time to settle after the queries (its full collection after bulk work), MB: 35 s and 60 s after the last. */
  settledMb: number;
  settledMinuteMb: number;
}

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: (kb('VmRSS') * 1024) / 1e6, peak: (kb('VmHWM') * 1024) / 1e6 };
}

async function query(url: string, from: number, to: number): Promise<void> {
  const response = await fetch(`${url}/api/history?topics=${TOPICS}&from=${Math.round(from)}&to=${Math.round(to)}&points=${POINTS}`);
  if (!response.ok) throw new Error(`/api/history: HTTP ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** A deterministic mix of windows and positions (zooms and moves in the past), the same on every run. */
export function mixedRanges(end: number): [number, number][] {
  const spans = [HOUR, 6 * HOUR, DAY, 7 * DAY, 30 * DAY, 365 * DAY];
  const ranges: [number, number][] = [];
  let seed = 7;
  for (let i = 0; i < MIXED_QUERIES; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const span = spans[i % spans.length] as number;
    const back = (seed / 2 ** 31) * 29 * DAY;
    ranges.push([end - back - span, end - back]);
  }
  return ranges;
}

/**
 * RSS of a server at default flags on a 30-day store: after start, after the page's query of each long
 * window (the one after another, as a user clicking through them), and after 50 more mixed queries.
 */
export async function historyMemory(dir: string): Promise<HistoryMemoryResult> {
  const server: Started = await startProcess(process.execPath, [join(ROOT, 'dist/server/main.js'), '--port', '0', '--data-dir', dir]);
  try {
    const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));
    await settle();
    const start = memoryOf(server.pid);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS - 1000));
    const idle = memoryOf(server.pid);
    const afterWindowMb: HistoryMemoryResult['afterWindowMb'] = [];
    for (const [window, span] of MEMORY_WINDOWS) {
      const now = Date.now();
      await query(server.url, now - span, now);
      await settle();
      afterWindowMb.push({ window, mb: memoryOf(server.pid).rss });
    }
    for (const [from, to] of mixedRanges(Date.now())) await query(server.url, from, to);
    await settle();
    const after = memoryOf(server.pid);
    // Past the quiet time and the spacing of the server's full collection after bulk work, then to a minute.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_QUIET_MS + SETTLE_SPACING_MS));
    const settled = memoryOf(server.pid);
    await new Promise((resolve) => setTimeout(resolve, 60_000 - SETTLE_QUIET_MS - SETTLE_SPACING_MS));
    return {
      startMb: start.rss,
      idleMb: idle.rss,
      afterWindowMb,
      afterMixedMb: after.rss,
      peakMb: after.peak,
      settledMb: settled.rss,
      settledMinuteMb: memoryOf(server.pid).rss,
    };
  } finally {
    await server.stop();
  }
}
