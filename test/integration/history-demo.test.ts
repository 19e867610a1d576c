import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEMO_GAP } from '../../server/history/demo.js';
import type { HistoryResponse } from '../../server/protocol.js';
import { runCli, spawnServer } from '../helpers/server.js';

const root = mkdtempSync(join(tmpdir(), 'pulseboard-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('pulseboard demo writes days of history that /api/history reads back in tiers, with the restart gap left empty', async () => {
  const dir = join(root, 'data');
  // Before the demo runs: its end, and so its gap, is at or after this, and the rows at the gap's edges (a
  // minute row holding the first samples after it) stay outside the span checked below. Taken after the
  // demo, the gap was placed up to the demo's run time late, and such a row fell inside it about once in 20.
  const now = Date.now();
  const demo = await runCli(['demo', '--days', '2', '--interval', '10s', '--data-dir', dir]);
  expect(demo.stderr).toBe('');
  expect(demo.code).toBe(0);
  expect(demo.stdout).toMatch(/pulseboard demo: 2 days, \d+ samples written to/);

  const server = await spawnServer(['--port', '0', '--data-dir', dir]);
  try {
    const twoDays = (await (await fetch(`${server.url}api/history?topics=cpu,requests&from=-2d&points=1000`)).json()) as HistoryResponse;
    expect(twoDays.tier).toBe('1m');
    const times = twoDays.series.cpu?.t ?? [];
    expect(times[0]).toBeLessThan(now - 47 * 3_600_000);
    // Daily cycle: the afternoon is busier than the night.
    const totals = twoDays.series.cpu?.total ?? [];
    expect(Math.max(...totals)).toBeGreaterThan(Math.min(...totals) + 30);
    expect(Math.max(...(twoDays.bands?.max.cpu?.total ?? []))).toBe(100);
    // The restart gap: no row inside it, and the rows either side are further apart than a step.
    const gapFrom = now - DEMO_GAP.beforeEndMs;
    const gapTo = gapFrom + DEMO_GAP.lengthMs;
    expect(times.filter((t) => t > gapFrom + twoDays.step && t < gapTo - twoDays.step)).toEqual([]);
    expect(twoDays.series.requests?.count.some((count) => count > 0)).toBe(true);

    const lastHour = (await (await fetch(`${server.url}api/history?topics=cpu&from=-1h&points=4000`)).json()) as HistoryResponse;
    expect(lastHour.tier).toBe('raw');
    expect(lastHour.step).toBe(1000);
    expect(lastHour.series.cpu?.t.filter((t) => t < now - 60_000).length).toBeGreaterThan(300);
  } finally {
    await server.stop();
  }
}, 120_000);

it('pulseboard demo says what is wrong with its flags in one line', async () => {
  const bad = await runCli(['demo', '--days', 'x', '--data-dir', join(root, 'x')]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toBe('pulseboard: demo: --days "x": expected a whole number of days from 1 to 400\n');
  const noDir = await runCli(['demo', '--days', '1']);
  expect(noDir.stderr).toBe('pulseboard: demo: demo needs --data-dir <dir> to write to\n');
});
