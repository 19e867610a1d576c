import { join } from 'node:path';
import autocannon from 'autocannon';
import { median, type Started, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = ['--import', 'tsx'];

interface Load {
  rps: number;
  p99: number;
}

async function load(url: string, seconds: number): Promise<Load> {
  const result = await autocannon({ url: `${url}/users/42`, connections: 32, duration: seconds });
  return { rps: result.requests.average, p99: result.latency.p99 };
}

async function trial(start: () => Promise<Started>, seconds: number): Promise<Load> {
  const app = await start();
  try {
    await load(app.url, 1); // warm-up, not counted
    return await load(app.url, seconds);
  } finally {
    await app.stop();
  }
}

export interface MiddlewareResult {
  bare: Load;
  measured: Load;
  proxied: Load;
  command: string;
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
  const runs: Record<'bare' | 'measured' | 'proxied', Load[]> = { bare: [], measured: [], proxied: [] };
  for (let i = 0; i < trials; i++) {
    runs.bare.push(await trial(app('bare'), seconds));
    runs.measured.push(await trial(app('measured'), seconds));
    runs.proxied.push(await trial(proxied, seconds));
  }
  const summarize = (list: Load[]): Load => ({ rps: median(list.map((l) => l.rps)), p99: median(list.map((l) => l.p99)) });
  return {
    bare: summarize(runs.bare),
    measured: summarize(runs.measured),
    proxied: summarize(runs.proxied),
    command: `autocannon -c 32 -d ${seconds} /users/42 on test/bench/apps/hono-app.ts {bare|measured}, and via dist/server/main.js --proxy; median of ${trials}`,
  };
}
