import { join } from 'node:path';
import { type FanoutLevel, fanOut } from './fanout.js';
import { MANY_FILES, startProcess } from './procs.js';
import type { Row } from './table.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface FanoutBaselineResult {
  levels: FanoutLevel[];
  command: string;
}

/**
 * Issue 16's yardstick for the fan-out: a plain node:http broadcaster (test/bench/apps/plain-broadcaster.ts)
 * relaying a pulseboard server's stream, byte for byte, to the same SSE clients as the fan-out rows.
 */
export async function benchFanoutBaseline(levels: number[], windows: number, windowSeconds: number): Promise<FanoutBaselineResult> {
  const launch = { fileLimit: MANY_FILES };
  const upstreamArgs = [join(ROOT, 'dist/server/main.js'), '--port', '0', '--data-dir', 'none'];
  const upstream = await startProcess(process.execPath, upstreamArgs, {}, undefined, launch);
  try {
    const relayArgs = ['--import', 'tsx', join(ROOT, 'test/bench/apps/plain-broadcaster.ts'), upstream.url];
    const relay = await startProcess(process.execPath, relayArgs, {}, undefined, launch);
    try {
      return {
        levels: await fanOut(relay, 'sse', levels, windows, windowSeconds, 3),
        command: `node --import tsx test/bench/apps/plain-broadcaster.ts <url of node dist/server/main.js --port 0 --data-dir none>; the fan-out rows' clients and windows`,
      };
    } finally {
      await relay.stop();
    }
  } finally {
    await upstream.stop();
  }
}

/** One row per level; with the fan-out rows in the same run, ours over the baseline. */
export function fanoutBaselineRows(result: FanoutBaselineResult, ours: FanoutLevel[] | undefined): Row[] {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return result.levels.map((level) => {
    const mine = ours?.find((o) => o.clients === level.clients);
    return {
      measure: `${level.clients.toLocaleString('en-US')} clients, plain node:http broadcaster of the same bytes: held; p50 / p99 / max, ms; RSS per client (ratio: our p99 / its p99)`,
      ours: `${level.held.toLocaleString('en-US')}; ${level.p50} / ${level.p99} / ${level.max}; ${kib(level.rssPerClient)}`,
      peer: '-',
      ratio: mine ? (mine.p99 / level.p99).toFixed(2) : '-',
      command: result.command,
    };
  });
}
