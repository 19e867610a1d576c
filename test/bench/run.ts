// `npm run bench`: measures, prints one table, and writes the figures to test/bench/results/<date>.json.
// Not part of `npm test`. Rows so far: request middleware cost and the reverse proxy.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchMiddleware } from './middleware.js';
import { TASKSET } from './procs.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

interface Row {
  measure: string;
  ours: string;
  reference: string;
  ratio: string;
  command: string;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const rows: Row[] = [];
  const mw = await benchMiddleware(TRIALS, SECONDS);
  rows.push({
    measure: 'Hono app req/s, with our middleware vs bare',
    ours: `${fmt(mw.measured.rps)} (p99 ${mw.measured.p99} ms)`,
    reference: `${fmt(mw.bare.rps)} (p99 ${mw.bare.p99} ms)`,
    ratio: (mw.measured.rps / mw.bare.rps).toFixed(3),
    command: mw.command,
  });
  rows.push({
    measure: 'Hono app req/s, through our --proxy vs direct',
    ours: `${fmt(mw.proxied.rps)} (p99 ${mw.proxied.p99} ms)`,
    reference: `${fmt(mw.bare.rps)} (p99 ${mw.bare.p99} ms)`,
    ratio: (mw.proxied.rps / mw.bare.rps).toFixed(3),
    command: mw.command,
  });

  const header: (keyof Row)[] = ['measure', 'ours', 'reference', 'ratio'];
  const widths = header.map((key) => Math.max(key.length, ...rows.map((row) => row[key].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(header.map((key) => row[key])));
  for (const row of rows) console.log(`  ${row.measure}: ${row.command}`);

  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = join(dir, `${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { date, machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, rows, raw: { middleware: mw } },
      null,
      2,
    ),
  );
  console.log(`results: ${file}`);
}

if (TASKSET && process.env.PULSEBOARD_BENCH_PINNED !== '1') {
  // Re-run this script on CPU 1; the servers it starts go to CPU 0.
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
