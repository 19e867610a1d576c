import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuSeconds, median, type Started, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = ['--import', 'tsx'];

export interface Load {
  rps: number;
  p99: number;
  /**
   * Server CPU per request, µs (/proc: user + system). Steadier than req/s on a shared machine, whose
   * neighbours move throughput by half from one run to the next.
   */
  cpuUs: number;
}

async function load(url: string, seconds: number, pid: number): Promise<Load> {
  const before = cpuSeconds(pid);
  const result = await autocannon({ url: `${url}/users/42`, connections: 32, duration: seconds });
  const cpuUs = ((cpuSeconds(pid) - before) * 1e6) / Math.max(1, result.requests.total);
  return { rps: result.requests.average, p99: result.latency.p99, cpuUs };
}

async function trial(start: () => Promise<Started>, seconds: number): Promise<Load> {
  const app = await start();
  try {
    await load(app.url, 1, app.pid); // warm-up, not counted
    return await load(app.url, seconds, app.pid);
  } finally {
    await app.stop();
  }
}

/** with / bare of one trial, the two runs back to back: the median of these resists the machine's drift. */
export interface Kept {
  rps: number;
  /** bare CPU per request / with: 1 is free. */
  cpu: number;
}

export interface MiddlewareResult {
  /** Medians over trials of each trial's own ratio to its bare run (Hono's, or Express's for the peer). */
  kept: Record<'measured' | 'wrapped' | 'empty' | 'proxied' | 'expressMonitored', Kept>;
  bare: Load;
  measured: Load;
  /** The same app measured from outside (`measuredFetch`), no middleware. */
  wrapped: Load;
  /** The same app with a middleware that only calls next(): what any Hono middleware costs. */
  empty: Load;
  proxied: Load;
  expressBare: Load;
  expressMonitored: Load;
  command: string;
  peerCommand: string;
}

/** A small Hono app under autocannon: bare, with our middleware, and behind our reverse proxy. Medians of trials, alternated. */
export async function benchMiddleware(trials: number, seconds: number): Promise<MiddlewareResult> {
  const app = (mode: string) => () => startProcess(process.execPath, [...TSX, join(ROOT, 'test/bench/apps/hono-app.ts'), mode]);
  const proxied = async (): Promise<Started> => {
    const upstream = await app('bare')();
    const pulse = await startProcess(
      process.execPath,
      [join(ROOT, 'dist/server/main.js'), '--port', '0', '--proxy', upstream.url, '--proxy-port', '0'],
      {},
      /proxying (http:\/\/\S+?)\/? /,
    );
    return {
      ...pulse,
      stop: async () => {
        await pulse.stop();
        await upstream.stop();
      },
    };
  };
  const express = (mode: string) => () => startProcess(process.execPath, [...TSX, join(ROOT, 'test/bench/apps/express-app.ts'), mode]);
  const runs: Record<'bare' | 'measured' | 'wrapped' | 'empty' | 'proxied' | 'expressBare' | 'expressMonitored', Load[]> = {
    bare: [],
    measured: [],
    wrapped: [],
    empty: [],
    proxied: [],
    expressBare: [],
    expressMonitored: [],
  };
  for (let i = 0; i < trials; i++) {
    runs.bare.push(await trial(app('bare'), seconds));
    runs.measured.push(await trial(app('measured'), seconds));
    runs.wrapped.push(await trial(app('wrapped'), seconds));
    runs.empty.push(await trial(app('empty'), seconds));
    runs.proxied.push(await trial(proxied, seconds));
    runs.expressBare.push(await trial(express('bare'), seconds));
    runs.expressMonitored.push(await trial(express('monitored'), seconds));
  }
  const summarize = (list: Load[]): Load => ({
    rps: median(list.map((l) => l.rps)),
    p99: median(list.map((l) => l.p99)),
    cpuUs: median(list.map((l) => l.cpuUs)),
  });
  const keptOf = (list: Load[], bare: Load[]): Kept => ({
    rps: median(list.map((l, i) => l.rps / (bare[i] as Load).rps)),
    cpu: median(list.map((l, i) => (bare[i] as Load).cpuUs / l.cpuUs)),
  });
  return {
    kept: {
      measured: keptOf(runs.measured, runs.bare),
      wrapped: keptOf(runs.wrapped, runs.bare),
      empty: keptOf(runs.empty, runs.bare),
      proxied: keptOf(runs.proxied, runs.bare),
      expressMonitored: keptOf(runs.expressMonitored, runs.expressBare),
    },
    bare: summarize(runs.bare),
    measured: summarize(runs.measured),
    wrapped: summarize(runs.wrapped),
    empty: summarize(runs.empty),
    proxied: summarize(runs.proxied),
    expressBare: summarize(runs.expressBare),
    expressMonitored: summarize(runs.expressMonitored),
    command: `autocannon -c 32 -d ${seconds} /users/42 on test/bench/apps/hono-app.ts {bare|measured|wrapped|empty}, and via dist/server/main.js --proxy; 1 s warm-up; ratios are medians of each trial's with / bare, ${trials} trials alternated`,
    peerCommand: `autocannon -c 32 -d ${seconds} /users/42 on test/bench/apps/express-app.ts {bare|monitored}; 1 s warm-up; median of ${trials}`,
  };
}
