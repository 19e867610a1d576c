// Issue 20: `--proxy` beside nginx in front of the same app, in one run. The app (the middleware bench's
// bare Hono app) and the proxy in front of it share CPU 0; autocannon runs here, on CPU 1. Trials alternate
// direct, nginx, ours; each ratio is the median of the trials' own ratios (ours / nginx in the same trial).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startNginxWith } from '../helpers/nginx.js';
import { cpuSeconds, median, SERVER_CPU, type Started, startProcess, TASKSET } from './procs.js';
import type { Row } from './table.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** nginx as the issue measured it: one worker, keep-alive to the upstream, no access log. */
function nginxSetup(upstream: string) {
  return {
    http: `access_log off;
    upstream app { server ${upstream}; keepalive 64; }`,
    locations: `
    location = /healthz { return 200; }
    location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }`,
    prefix: TASKSET ? [TASKSET, '-c', String(SERVER_CPU)] : [],
  };
}

export interface ProxyLoad {
  rps: number;
  p99: number;
  /** CPU of the proxy process(es) per request, µs (/proc: user + system); 0 for direct. */
  proxyCpuUs: number;
}

export interface ProxyBenchResult {
  direct: ProxyLoad;
  nginx: ProxyLoad;
  ours: ProxyLoad;
  /** The same with BENCH_PROXY_BEFORE=<another build's main.js>: a before/after in one run. */
  before: ProxyLoad | null;
  trials: Record<'direct' | 'nginx' | 'ours' | 'before', ProxyLoad[]>;
  /** Medians of each trial's ours / nginx. */
  rpsVsNginx: number;
  p99VsNginx: number;
  command: string;
}

/** nginx's worker processes: the children of its master. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function load(url: string, seconds: number, proxyPids: number[]): Promise<ProxyLoad> {
  const cpu = () => proxyPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const before = cpu();
  const result = await autocannon({ url: `${url}/users/42`, connections: 32, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`proxy bench: ${result.non2xx} non-2xx, ${result.errors} errors at ${url}`);
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    proxyCpuUs: ((cpu() - before) * 1e6) / Math.max(1, result.requests.total),
  };
}

async function measured(url: string, seconds: number, proxyPids: number[] = []): Promise<ProxyLoad> {
  await load(url, 1, proxyPids); // warm-up, not counted
  return load(url, seconds, proxyPids);
}

/** `main.js --proxy` in front of the app, measured. */
async function throughPulseboard(main: string, app: Started, seconds: number): Promise<ProxyLoad> {
  const ours = await startProcess(
    process.execPath,
    [main, '--port', '0', '--proxy', app.url, '--proxy-port', '0', '--data-dir', 'none'],
    {},
    /proxying (http:\/\/\S+?)\/? /,
  );
  try {
    return await measured(ours.url, seconds, [ours.pid]);
  } finally {
    await ours.stop();
  }
}

export async function benchProxy(trials: number, seconds: number, beforeMain = ''): Promise<ProxyBenchResult> {
  const runs: Record<'direct' | 'nginx' | 'ours' | 'before', ProxyLoad[]> = { direct: [], nginx: [], ours: [], before: [] };
  for (let i = 0; i < trials; i++) {
    const app: Started = await startProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'test/bench/apps/hono-app.ts'), 'bare']);
    try {
      runs.direct.push(await measured(app.url, seconds));
      const nginx = await startNginxWith(nginxSetup(new URL(app.url).host));
      try {
        runs.nginx.push(await measured(nginx.url.replace(/\/$/, ''), seconds, [nginx.pid, ...childrenOf(nginx.pid)]));
      } finally {
        await nginx.stop();
      }
      runs.ours.push(await throughPulseboard(join(ROOT, 'dist/server/main.js'), app, seconds));
      if (beforeMain !== '') runs.before.push(await throughPulseboard(beforeMain, app, seconds));
    } finally {
      await app.stop();
    }
  }
  const summary = (list: ProxyLoad[]): ProxyLoad => ({
    rps: median(list.map((l) => l.rps)),
    p99: median(list.map((l) => l.p99)),
    proxyCpuUs: median(list.map((l) => l.proxyCpuUs)),
  });
  return {
    direct: summary(runs.direct),
    nginx: summary(runs.nginx),
    ours: summary(runs.ours),
    before: runs.before.length > 0 ? summary(runs.before) : null,
    rpsVsNginx: median(runs.ours.map((l, i) => l.rps / (runs.nginx[i] as ProxyLoad).rps)),
    p99VsNginx: median(runs.ours.map((l, i) => l.p99 / Math.max(1, (runs.nginx[i] as ProxyLoad).p99))),
    trials: runs,
    command: `autocannon -c 32 -d ${seconds} /users/42 on test/bench/apps/hono-app.ts bare: direct, through Debian's nginx (1 worker, keepalive 64 upstream, access_log off) and through dist/server/main.js --proxy${beforeMain === '' ? '' : ` (and ${beforeMain} --proxy, "before")`}; app and proxy on CPU ${SERVER_CPU}; 1 s warm-up each; ${trials} trials alternated, ratios are medians of each trial's ours / nginx`,
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed1 = (n: number) => n.toFixed(1);

export function proxyRows(result: ProxyBenchResult): Row[] {
  const { direct, nginx, ours } = result;
  return [
    {
      measure: 'proxy: req/s through --proxy vs through nginx, same app (ours / nginx; target ≥ 0.7). Direct / nginx / ours req/s',
      ours: `${result.rpsVsNginx.toFixed(2)} (${int(direct.rps)} / ${int(nginx.rps)} / ${int(ours.rps)})`,
      peer: '-',
      ratio: result.rpsVsNginx.toFixed(2),
      command: result.command,
    },
    {
      measure: 'proxy: p99 through --proxy vs through nginx (ours / nginx; target ≤ 1.5). Direct / nginx / ours p99, ms',
      ours: `${result.p99VsNginx.toFixed(2)} (${direct.p99} / ${nginx.p99} / ${ours.p99})`,
      peer: '-',
      ratio: result.p99VsNginx.toFixed(2),
      command: result.command,
    },
    {
      measure: 'proxy: CPU per request of the proxy process(es), µs: ours / nginx (master + worker)',
      ours: `${fixed1(ours.proxyCpuUs)} / ${fixed1(nginx.proxyCpuUs)}`,
      peer: '-',
      ratio: (ours.proxyCpuUs / nginx.proxyCpuUs).toFixed(2),
      command: result.command,
    },
    ...(result.before === null ? [] : [beforeRow(result, result.before)]),
    {
      measure: 'proxy: each trial, req/s direct / nginx / ours',
      ours: result.trials.direct
        .map((d, i) => {
          const before = result.trials.before[i];
          return `${int(d.rps)} / ${int(result.trials.nginx[i]?.rps ?? 0)} / ${int(result.trials.ours[i]?.rps ?? 0)}${before ? ` (before ${int(before.rps)})` : ''}`;
        })
        .join('; '),
      peer: '-',
      ratio: '-',
      command: result.command,
    },
  ];
}

/** The build named by BENCH_PROXY_BEFORE, measured in the same trials: req/s and p99 against nginx's, and CPU. */
function beforeRow(result: ProxyBenchResult, before: ProxyLoad): Row {
  const { ours } = result;
  const rpsVsNginx = median(result.trials.before.map((l, i) => l.rps / (result.trials.nginx[i] as ProxyLoad).rps));
  return {
    measure: 'proxy, before (BENCH_PROXY_BEFORE) in the same trials: req/s vs nginx; req/s, p99 ms and CPU µs per request before / now',
    ours: `${rpsVsNginx.toFixed(2)}; ${int(before.rps)} / ${int(ours.rps)}; ${before.p99} / ${ours.p99}; ${fixed1(before.proxyCpuUs)} / ${fixed1(ours.proxyCpuUs)}`,
    peer: '-',
    ratio: (ours.proxyCpuUs / before.proxyCpuUs).toFixed(2),
    command: result.command,
  };
}
