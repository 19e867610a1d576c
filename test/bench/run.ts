// `npm run bench`: every measure of issue #5 against the peer (express-status-monitor) in one run, printed
// as one table and written to test/bench/results/<date>[-<BENCH_LABEL>].{json,txt}. Not part of `npm test`.
// Servers run on CPU 0, this process (the load generator) and what it starts on CPU 1.
// Knobs: BENCH_ONLY=idle,fanout,fanoutbase,middleware,middlewareprofile,bundle,browser,pagecost,lifecycle,history,containers,accesslog,proxy  BENCH_LABEL=before
// BENCH_PROXY_BEFORE=<another build's dist/server/main.js> (proxy: measured beside ours in the same trials)
// BENCH_CONTAINERS_BEFORE=<another checkout's root> (containers: its collector sampled beside ours on the same cgroups)
// BENCH_CONTAINERS_WARMUP=36 (containers: samples taken before the timed ones, so V8 has compiled the collector; the first 12 are timed as a fresh collector's cost)
// BENCH_IDLE_SECONDS=60 BENCH_IDLE_WARMUP_SECONDS=300 BENCH_HISTORY_IDLE_SECONDS=60 BENCH_IDLE_BEFORE=<another build's dist> (idle: run beside this one)
// BENCH_TRIALS=3 BENCH_SECONDS=5 (middleware)  BENCH_FANOUT_LEVELS=1000,5000,10000 BENCH_FANOUT_WINDOWS=3
// BENCH_FANOUT_WINDOW_SECONDS=5  BENCH_BROWSER_SECONDS=15 (also pagecost)  BENCH_LIFECYCLE_EVENTS=50  BENCH_CONTAINERS_SECONDS=60
// BENCH_PAGE_SCENARIOS=static,fast,1hz  BENCH_PAGE_DISTS=before=/tmp/main/dist,after=dist  BENCH_PAGE_DRIVERS=bare,playwright (pagecost)
// BENCH_PAINT_DISTS=before=/tmp/main/dist,after=dist  BENCH_PAINT_TRIALS=6  BENCH_PAINT_DRIVERS=bare,playwright (firstpaint, historypaint, historyquery: builds side by side; add spread: Chromium on every core)

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { accessLogRows, benchAccessLog } from './access-log.js';
import { type BrowserResult, benchBrowser } from './browser.js';
import { type BundleResult, benchBundle } from './bundle.js';
import { BENCH_CGROUPS, benchFixtureCgroups, benchRealCgroups, type ContainersCost } from './containers.js';
import { benchFanout, type FanoutLevel, type FanoutResult } from './fanout.js';
import { benchFanoutBaseline, fanoutBaselineRows } from './fanout-baseline.js';
import { benchFirstPaint, firstPaintRows } from './first-paint.js';
import { benchHistory, type HistoryBenchResult } from './history.js';
import { benchHistoryPaint, historyPaintRows } from './history-paint.js';
import { benchHistoryQuery, historyQueryRows } from './history-query.js';
import { benchIdle, type IdleResult } from './idle.js';
import { benchLifecycle, type LifecycleResult } from './lifecycle.js';
import { benchMiddleware, type Kept, type Load, type MiddlewareResult } from './middleware.js';
import { benchMiddlewareProfile, type MiddlewareShares, type ProfileShares } from './middleware-profile.js';
import { benchPageCost, pageCostRows } from './page-cost.js';
import { TASKSET } from './procs.js';
import { benchProxy, proxyRows } from './proxy.js';
import { benchRequestWindow, requestWindowRows } from './request-window.js';
import { formatTable, type Row, ratio } from './table.js';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const ONLY = new Set(
  env(
    'BENCH_ONLY',
    'idle,fanout,fanoutbase,middleware,middlewareprofile,bundle,browser,pagecost,lifecycle,history,containers,accesslog,proxy',
  ).split(','),
);
const LABEL = env('BENCH_LABEL', '');

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function idleRows(idle: IdleResult): Row[] {
  const rows: Row[] = [
    {
      measure: 'idle CPU at 1 Hz, 0 clients, % of one core',
      ours: fixed(idle.oursPercent, 3),
      peer: fixed(idle.peerPercent, 3),
      ratio: ratio(idle.oursPercent, idle.peerPercent),
      command: idle.command,
    },
  ];
  if (idle.before) {
    rows.push({
      measure: '  idle: the build of BENCH_IDLE_BEFORE, beside it in the same window, % (ratio: this build / it)',
      ours: fixed(idle.before.percent, 3),
      peer: '-',
      ratio: ratio(idle.oursPercent, idle.before.percent),
      command: `node ${idle.before.dist}/server/main.js, the same flags, started and read with this build's`,
    });
  }
  rows.push({
    measure: '  idle: of which the process collector with its event-loop lag readings (alone in a process), %',
    ours: fixed(idle.probePercent, 3),
    peer: '-',
    ratio: '-',
    command: 'node --import tsx test/bench/apps/lag-probe.ts, schedstat CPU over the same window',
  });
  for (const cost of [...idle.collectors].sort((a, b) => b.msPerSecond - a.msPerSecond)) {
    rows.push({
      measure: `  idle: ${cost.name}, ms CPU per sample (per s)`,
      ours: `${fixed(cost.msPerSample, 3)} (${fixed(cost.msPerSecond, 3)})`,
      peer: '-',
      ratio: '-',
      command: idle.command,
    });
  }
  return rows;
}

function fanoutRows(fanout: FanoutResult): Row[] {
  const rows: Row[] = [];
  const command = `ours: ${fanout.commands.ours}; peer: ${fanout.commands.peer}`;
  const peerAt = (clients: number): FanoutLevel | undefined => fanout.peer.find((level) => level.clients === clients);
  const heldText = (level: FanoutLevel | undefined) =>
    level ? `${int(level.held)}${level.failed ? ` (${int(level.failed)} refused)` : ''}` : 'not reached';
  for (const ours of fanout.ours) {
    const peer = peerAt(ours.clients);
    const n = int(ours.clients);
    rows.push(
      {
        measure: `${n} clients: held`,
        ours: heldText(ours),
        peer: heldText(peer),
        ratio: ratio(ours.held, peer?.held ?? Number.NaN),
        command,
      },
      {
        measure: `${n} clients: publish to receipt p50 / p99 / max, ms`,
        ours: `${ours.p50} / ${ours.p99} / ${ours.max}`,
        peer: peer ? `${peer.p50} / ${peer.p99} / ${peer.max}` : '-',
        ratio: ratio(ours.p99, peer?.p99 ?? Number.NaN),
        command,
      },
      {
        measure: `${n} clients: server RSS per client`,
        ours: kib(ours.rssPerClient),
        peer: peer ? kib(peer.rssPerClient) : '-',
        ratio: ratio(ours.rssPerClient, peer?.rssPerClient ?? Number.NaN),
        command,
      },
      {
        measure: `${n} clients: server CPU per event sent to 1 000 clients, ms`,
        ours: fixed(ours.cpuMsPerEventPer1000, 1),
        peer: peer ? fixed(peer.cpuMsPerEventPer1000, 1) : '-',
        ratio: ratio(ours.cpuMsPerEventPer1000, peer?.cpuMsPerEventPer1000 ?? Number.NaN),
        command,
      },
      {
        measure: `${n} clients: server CPU per second per 1 000 clients (ours 7 events/s, peer 1), ms`,
        ours: fixed(ours.cpuMsPerUpdatePer1000, 1),
        peer: peer ? fixed(peer.cpuMsPerUpdatePer1000, 1) : '-',
        ratio: ratio(ours.cpuMsPerUpdatePer1000, peer?.cpuMsPerUpdatePer1000 ?? Number.NaN),
        command,
      },
    );
  }
  return rows;
}

function middlewareProfileRows(shares: MiddlewareShares): Row[] {
  const percent = (share: number) => `${fixed(share * 100, 2)} %`;
  const row = (measure: string, of: ProfileShares): Row => ({
    measure,
    ours: `${percent(of.ours)}; hop ${percent(of.hop)}; CPU kept ~${fixed(1 - of.ours - of.hop, 3)} (${int(of.busySamples)} busy samples)`,
    peer: '-',
    ratio: '-',
    command: shares.command,
  });
  return [
    row("the middleware's own work, share of the server's busy CPU under load (CPU profile); Hono's compose hop", shares.measured),
    row('the same measured from outside the app (`measuredFetch`), its route match included', shares.wrapped),
  ];
}

function middlewareRows(mw: MiddlewareResult): Row[] {
  const kept = (k: Kept, with_: Load, bare: Load) =>
    `${fixed(k.rps, 3)} (${int(with_.rps)} / ${int(bare.rps)} req/s, p99 ${with_.p99} / ${bare.p99} ms)`;
  const cpu = (k: Kept, with_: Load, bare: Load) => `${fixed(k.cpu, 3)} (${fixed(with_.cpuUs, 1)} / ${fixed(bare.cpuUs, 1)} µs)`;
  const command = `ours: ${mw.command}; peer: ${mw.peerCommand}`;
  return [
    {
      measure: 'req/s kept with the monitoring middleware (with / bare)',
      ours: kept(mw.kept.measured, mw.measured, mw.bare),
      peer: kept(mw.kept.expressMonitored, mw.expressMonitored, mw.expressBare),
      ratio: ratio(mw.kept.measured.rps, mw.kept.expressMonitored.rps),
      command,
    },
    {
      measure: 'server CPU per request, bare / with the middleware (µs with / bare)',
      ours: cpu(mw.kept.measured, mw.measured, mw.bare),
      peer: cpu(mw.kept.expressMonitored, mw.expressMonitored, mw.expressBare),
      ratio: ratio(mw.kept.measured.cpu, mw.kept.expressMonitored.cpu),
      command,
    },
    {
      measure: 'the same measured from outside the app (`measuredFetch`): req/s kept; CPU bare / with',
      ours: `${kept(mw.kept.wrapped, mw.wrapped, mw.bare)}; ${cpu(mw.kept.wrapped, mw.wrapped, mw.bare)}`,
      peer: kept(mw.kept.expressMonitored, mw.expressMonitored, mw.expressBare),
      ratio: ratio(mw.kept.wrapped.rps, mw.kept.expressMonitored.rps),
      command,
    },
    {
      measure: 'the floor: a Hono middleware that only calls next(), req/s kept; CPU bare / with',
      ours: `${kept(mw.kept.empty, mw.empty, mw.bare)}; ${cpu(mw.kept.empty, mw.empty, mw.bare)}`,
      peer: '-',
      ratio: '-',
      command,
    },
    {
      measure: 'req/s kept through our --proxy (proxied / direct; both processes on one CPU)',
      ours: kept(mw.kept.proxied, mw.proxied, mw.bare),
      peer: '-',
      ratio: '-',
      command,
    },
  ];
}

function bundleRows(bundle: BundleResult): Row[] {
  const size = (s: { raw: number; gzip: number }) => `${kib(s.gzip)} gzip (${kib(s.raw)})`;
  return [
    { measure: 'page JS', ours: size(bundle.js), peer: '-', ratio: '-', command: bundle.command },
    { measure: 'page CSS', ours: size(bundle.css), peer: '-', ratio: '-', command: bundle.command },
    {
      measure: 'page as served, JS + CSS (+ HTML for the peer)',
      ours: size({ raw: bundle.js.raw + bundle.css.raw, gzip: bundle.js.gzip + bundle.css.gzip }),
      peer: `${size(bundle.peerPage)} + Chart.js 2.2.2 and socket.io 1.4.5 from a CDN`,
      ratio: '-',
      command: bundle.command,
    },
  ];
}

function browserRows(browser: BrowserResult): Row[] {
  const peer = 'n/a (page needs a CDN)';
  return [
    {
      measure: `main thread per live update, every chart, 1 h window (${int(browser.pointsPerSeries)} points per series), ms`,
      ours: `${fixed(browser.updateMs, 2)} (${browser.updates} updates; main thread busy ${fixed(browser.mainThreadMsPerSecond, 0)} ms/s)`,
      peer,
      ratio: '-',
      command: browser.commands.update,
    },
    {
      measure: 'first full paint (navigation to every chart drawn), 300-row backfill, 5 m window, ms',
      ours: fixed(browser.firstPaintMs, 0),
      peer,
      ratio: '-',
      command: browser.commands.firstPaint,
    },
    {
      measure: 'first full paint, 3 600-row backfill, 1 h window, ms',
      ours: fixed(browser.firstPaintLongMs, 0),
      peer,
      ratio: '-',
      command: browser.commands.firstPaintLong,
    },
  ];
}

function historyRows(history: HistoryBenchResult): Row[] {
  const none = 'n/a (keeps no history)';
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const rows: Row[] = [
    {
      measure: 'durable history: persistence CPU at 1 Hz, the store alone (journal every 5 s, hourly seal), % of one core',
      ours: fixed(history.storeCpuPercent, 4),
      peer: none,
      ratio: '-',
      command: history.commands.storeCpu as string,
    },
    {
      measure: 'durable history: idle server at 1 Hz with a data directory / with --data-dir none, % of one core',
      ours: `${fixed(history.idleWith, 3)} / ${fixed(history.idleWithout, 3)}`,
      peer: none,
      ratio: '-',
      command: history.commands.idle as string,
    },
    {
      measure: `durable history: bytes per raw numeric sample (${int(history.rawNumbers)} numbers in 24 h, latency buckets included)`,
      ours: fixed(history.bytesPerRawNumber, 2),
      peer: none,
      ratio: '-',
      command: history.commands.size as string,
    },
    {
      measure: 'durable history: 30-day demo store, raw 24 h / 1m 30 d / 10m 30 d / 1h 30 d',
      ours: `${mb(history.tierBytes.raw)} / ${mb(history.tierBytes['1m'])} / ${mb(history.tierBytes['10m'])} / ${mb(history.tierBytes['1h'])}`,
      peer: none,
      ratio: '-',
      command: history.commands.size as string,
    },
    {
      measure: 'durable history: a year of the default tiers for one host (extrapolated)',
      ours: mb(history.yearBytes),
      peer: none,
      ratio: '-',
      command: history.commands.size as string,
    },
  ];
  for (const paint of history.paint)
    rows.push({
      measure: `durable history: query + first paint, ${paint.window} window (${paint.tier} rows, ${int(paint.rows)} per topic), cold / warm (of it until the answer's last byte), ms`,
      ours: `${fixed(paint.coldMs, 0)} / ${fixed(paint.warmMs, 0)} (${fixed(paint.warmResponseMs, 0)})`,
      peer: none,
      ratio: '-',
      command: history.commands.paint as string,
    });
  const { memory } = history;
  rows.push({
    measure: `durable history: server RSS at default flags, MB: 1 s / 30 s after start / after the ${memory.afterWindowMb.map((step) => step.window).join(' / ')} queries / after 50 more mixed ones (peak) / 35 s / 60 s later`,
    ours: `${fixed(memory.startMb, 0)} / ${fixed(memory.idleMb, 0)} / ${memory.afterWindowMb.map((step) => fixed(step.mb, 0)).join(' / ')} / ${fixed(memory.afterMixedMb, 0)} (${fixed(memory.peakMb, 0)}) / ${fixed(memory.settledMb, 0)} / ${fixed(memory.settledMinuteMb, 0)}`,
    peer: none,
    ratio: '-',
    command: history.commands.memory as string,
  });
  rows.push({
    measure: 'durable history: start-up to first event with a full 30-day store, ms',
    ours: fixed(history.startToFirstEventMs, 0),
    peer: none,
    ratio: '-',
    command: history.commands.start as string,
  });
  rows.push({
    measure: 'durable history: pulseboard demo --days 30, s',
    ours: fixed(history.demo.seconds, 1),
    peer: none,
    ratio: '-',
    command: history.commands.size as string,
  });
  return rows;
}

/** Issue 17's budget for the containers collector: 0.05 % of a core with 50 cgroups at its 5 s cadence. */
const CONTAINERS_BUDGET_PERCENT = 0.05;

/** A fresh collector's first samples (V8 not yet compiling it), beside the warm figure the budget is for. */
const freshCost = (cost: ContainersCost) =>
  cost.fresh === null
    ? ''
    : `; fresh: ${fixed(cost.fresh.percentOfCore, 4)} (${fixed(cost.fresh.msPerSample, 3)} ms, first ${cost.fresh.samples} samples)`;

function containersRows(costs: ContainersCost[]): Row[] {
  return costs.map((cost) => ({
    measure: `containers collector${cost.build === 'before' ? ' BEFORE (BENCH_CONTAINERS_BEFORE)' : ''}, ${BENCH_CGROUPS} cgroups (${cost.kind}; ${cost.containers} containers found${cost.warmupSamples > 0 ? `; after ${cost.warmupSamples} samples` : ''}), % of one core at 5 s (mean ms per sample); budget ${CONTAINERS_BUDGET_PERCENT}`,
    ours: `${fixed(cost.percentOfCore, 4)} (${fixed(cost.msPerSample, 3)} ms, median ${fixed(cost.medianMs, 3)}, ${cost.samples} samples)${cost.percentOfCore > CONTAINERS_BUDGET_PERCENT ? ' OVER BUDGET' : ''}${freshCost(cost)}`,
    peer: '-',
    // With BENCH_CONTAINERS_BEFORE: this build's CPU over the before build's in the same tick, the median tick.
    ratio: cost.medianTickRatio === null ? '-' : fixed(cost.medianTickRatio, 2),
    command: cost.command,
  }));
}

function lifecycleRows(life: LifecycleResult): Row[] {
  const spread = (l: LifecycleResult['direct']) => `${fixed(l.p50, 0)} / ${fixed(l.p90, 0)} / ${fixed(l.max, 0)}`;
  const codes = life.exitCodes.every((code) => code === 0) ? 'exit code 0 every time' : `exit codes ${life.exitCodes.join(', ')}`;
  return [
    {
      measure: 'start: spawn to the first event on a stream, ms',
      ours: fixed(life.firstEventMs, 0),
      peer: '-',
      ratio: '-',
      command: life.commands.lifecycle,
    },
    {
      measure: 'shutdown with 50 open streams: SIGTERM / SIGINT to exit, ms',
      ours: `${fixed(life.sigtermExitMs, 0)} / ${fixed(life.sigintExitMs, 0)} (${codes})`,
      peer: '-',
      ratio: '-',
      command: life.commands.lifecycle,
    },
    {
      measure: `sample to receipt at 100 ms, straight / through nginx, p50 / p90 / max, ms (${life.events} events)`,
      ours: `${spread(life.direct)}; ${spread(life.nginx)}`,
      peer: '-',
      ratio: '-',
      command: life.commands.nginx,
    },
    {
      measure: 'tabs: another tab holds the shared stream after the holder closes / crashes, ms',
      ours: `${fixed(life.handoverCloseMs, 0)} / ${fixed(life.handoverCrashMs, 0)}`,
      peer: '-',
      ratio: '-',
      command: life.commands.tabs,
    },
  ];
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  const step = async <T>(name: string, run: () => Promise<T> | T, toRows: (result: T) => Row[]) => {
    if (!ONLY.has(name)) return;
    const began = performance.now();
    const result = await run();
    raw[name] = result;
    rows.push(...toRows(result));
    console.error(`bench: ${name} done in ${Math.round((performance.now() - began) / 1000)} s`);
  };
  await step('idle', () => benchIdle(Number(env('BENCH_IDLE_SECONDS', '60'))), idleRows);
  await step(
    'fanout',
    () =>
      benchFanout(
        env('BENCH_FANOUT_LEVELS', '1000,5000,10000').split(',').map(Number),
        Number(env('BENCH_FANOUT_WINDOWS', '3')),
        Number(env('BENCH_FANOUT_WINDOW_SECONDS', '5')),
      ),
    fanoutRows,
  );
  await step(
    'fanoutbase',
    () =>
      benchFanoutBaseline(
        env('BENCH_FANOUT_LEVELS', '1000,5000,10000').split(',').map(Number),
        Number(env('BENCH_FANOUT_WINDOWS', '3')),
        Number(env('BENCH_FANOUT_WINDOW_SECONDS', '5')),
      ),
    (result) => fanoutBaselineRows(result, (raw.fanout as FanoutResult | undefined)?.ours),
  );
  await step('middleware', () => benchMiddleware(Number(env('BENCH_TRIALS', '3')), Number(env('BENCH_SECONDS', '5'))), middlewareRows);
  await step('middlewareprofile', () => benchMiddlewareProfile(Number(env('BENCH_SECONDS', '5'))), middlewareProfileRows);
  await step('bundle', benchBundle, bundleRows);
  await step('browser', () => benchBrowser(Number(env('BENCH_TRIALS', '3')), Number(env('BENCH_BROWSER_SECONDS', '15'))), browserRows);
  await step('firstpaint', () => benchFirstPaint(Number(env('BENCH_PAINT_TRIALS', '6'))), firstPaintRows);
  await step('historypaint', () => benchHistoryPaint(Number(env('BENCH_PAINT_TRIALS', '6'))), historyPaintRows);
  await step('historyquery', () => benchHistoryQuery(Number(env('BENCH_PAINT_TRIALS', '6')) * 2), historyQueryRows);
  await step('pagecost', () => benchPageCost(Number(env('BENCH_BROWSER_SECONDS', '15'))), pageCostRows);
  await step(
    'lifecycle',
    () => benchLifecycle(Number(env('BENCH_TRIALS', '3')), Number(env('BENCH_LIFECYCLE_EVENTS', '50'))),
    lifecycleRows,
  );
  await step('history', () => benchHistory(Number(env('BENCH_TRIALS', '3')), Number(env('BENCH_HISTORY_IDLE_SECONDS', '60'))), historyRows);

  await step(
    'containers',
    async () => {
      const options = {
        seconds: Number(env('BENCH_CONTAINERS_SECONDS', '60')),
        beforeRoot: env('BENCH_CONTAINERS_BEFORE', ''),
        warmupSamples: Number(env('BENCH_CONTAINERS_WARMUP', '36')),
      };
      return [
        ...(await benchRealCgroups(options, false)),
        ...(await benchRealCgroups(options, true)),
        ...(await benchFixtureCgroups(options)),
      ];
    },
    containersRows,
  );

  await step(
    'accesslog',
    () => ({ lines: benchAccessLog(), window: benchRequestWindow() }),
    (result) => [...accessLogRows(result.lines), ...requestWindowRows(result.window)],
  );
  await step(
    'proxy',
    () => benchProxy(Number(env('BENCH_TRIALS', '3')), Number(env('BENCH_SECONDS', '5')), env('BENCH_PROXY_BEFORE', '')),
    proxyRows,
  );

  const table = formatTable(rows);
  const date = new Date().toISOString();
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  const machine = { cpus: cpus().length, model, node: process.version, minutes: (performance.now() - startedAt) / 60_000 };
  const heading = `pulseboard bench ${LABEL ? `(${LABEL}) ` : ''}${date}: ${machine.cpus} CPUs, ${machine.model}, Node ${machine.node}, ${machine.minutes.toFixed(1)} min`;
  console.log(`${heading}\n\n${table}`);

  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${date.replace(/[:.]/g, '-')}${LABEL ? `-${LABEL}` : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify({ date, label: LABEL, machine, rows, raw }, null, 2));
  writeFileSync(`${base}.txt`, `${heading}\n\n${table}\n`);
  console.log(`\nresults: ${base}.json (and .txt)`);
}

if (TASKSET && process.env.PULSEBOARD_BENCH_PINNED !== '1') {
  // Re-run this script on the load CPU; the servers it starts go to the other one.
  const result = spawnSync(TASKSET, ['-c', '1', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PULSEBOARD_BENCH_PINNED: '1' },
  });
  process.exit(result.status ?? 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
