import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertLog } from '../../server/history/alert-log.js';
import type { AlertPayload } from '../../server/protocol.js';

const HOUR = 3_600_000;
const change = (rule: string, state: AlertPayload['state'], t: number, since = t): AlertPayload => ({
  t,
  rule,
  metric: 'cpu',
  state,
  severity: 'critical',
  value: state === 'firing' ? 95 : 10,
  threshold: 90,
  since,
  message: `${rule} ${state}`,
});

function open(dir: string | null, now: { t: number }, options: { retentionMs?: number; maxEntries?: number } = {}) {
  const lines: string[] = [];
  const log = new AlertLog({
    dir,
    retentionMs: options.retentionMs ?? 30 * 24 * HOUR,
    maxEntries: options.maxEntries,
    now: () => now.t,
    log: (line) => lines.push(line),
  });
  return { log, lines };
}

describe('alert history', () => {
  it('keeps every change across a restart, and ends a span that was firing at the restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-alert-log-'));
    const now = { t: 10 * HOUR };
    const first = open(dir, now).log;
    first.append({ event: 'alert', data: change('cpu', 'firing', 10 * HOUR) });
    first.append({ event: 'alert', data: change('cpu', 'resolved', 10 * HOUR + 60_000) });
    first.append({ event: 'alert', data: change('disk', 'firing', 10 * HOUR + 120_000) });
    first.append({ event: 'silence', data: { t: 10 * HOUR, rule: 'disk', until: 12 * HOUR } });

    now.t = 11 * HOUR; // the process stops while `disk` fires, and starts again
    const second = open(dir, now).log;
    second.append({ event: 'alert', data: change('disk', 'firing', 11 * HOUR + 5000) });
    const history = second.query(9 * HOUR, 12 * HOUR);
    expect(history.changes.map((c) => `${c.rule} ${c.state}`)).toEqual(['cpu firing', 'cpu resolved', 'disk firing', 'disk firing']);
    expect(history.ranges).toEqual([
      { rule: 'cpu', metric: 'cpu', severity: 'critical', from: 10 * HOUR, to: 10 * HOUR + 60_000, end: 'resolved' },
      { rule: 'disk', metric: 'cpu', severity: 'critical', from: 10 * HOUR + 120_000, to: 11 * HOUR, end: 'restart' },
      { rule: 'disk', metric: 'cpu', severity: 'critical', from: 11 * HOUR + 5000, to: null, end: null },
    ]);
    expect(second.silences(11 * HOUR)).toEqual([{ t: 10 * HOUR, rule: 'disk', until: 12 * HOUR }]);
    expect(second.silences(12 * HOUR)).toEqual([]);
    // A range asks for the spans that overlap it, and the changes inside it.
    const later = second.query(10 * HOUR + 150_000, 10 * HOUR + 160_000);
    expect(later.changes).toEqual([]);
    expect(later.ranges.map((r) => `${r.rule} ${r.end}`)).toEqual(['disk restart']);
  });

  it('drops what is older than the retention, rewriting the file, and keeps at most maxEntries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-alert-log-'));
    const now = { t: 100 * HOUR };
    const { log } = open(dir, now, { retentionMs: 10 * HOUR, maxEntries: 50 });
    for (let h = 0; h < 20; h++) log.append({ event: 'alert', data: change('cpu', h % 2 ? 'resolved' : 'firing', 90 * HOUR + h * HOUR) });
    now.t = 115 * HOUR;
    log.prune();
    const kept = readFileSync(join(dir, 'alerts.ndjson'), 'utf8').trim().split('\n');
    expect(kept.map((line) => JSON.parse(line).data.t / HOUR)).toEqual([105, 106, 107, 108, 109]);
    for (let i = 0; i < 200; i++) log.append({ event: 'alert', data: change('cpu', 'firing', now.t) });
    expect(log.query(0, now.t).changes.length).toBeLessThanOrEqual(55);
  });

  it("says how many bytes its file holds (the history's disk use counts them), through appends, pruning and a restart", () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-alert-log-'));
    const file = join(dir, 'alerts.ndjson');
    const now = { t: 100 * HOUR };
    const { log } = open(dir, now, { retentionMs: 10 * HOUR });
    for (let h = 0; h < 20; h++) log.append({ event: 'alert', data: change('cpu', h % 2 ? 'resolved' : 'firing', 90 * HOUR + h * HOUR) });
    expect(log.bytes).toBe(statSync(file).size);
    now.t = 115 * HOUR;
    log.prune();
    expect(log.bytes).toBe(statSync(file).size);
    expect(open(dir, now).log.bytes).toBe(statSync(file).size); // read back at start (its own start line appended)
    expect(open(null, now).log.bytes).toBe(0);
  });

  it('skips lines that are not alert history, says so once, and loads the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-alert-log-'));
    const now = { t: 10 * HOUR };
    open(dir, now).log.append({ event: 'alert', data: change('cpu', 'firing', 10 * HOUR) });
    appendFileSync(
      join(dir, 'alerts.ndjson'),
      'not json\n{"event":"alert","data":{"t":1}}\n{"event":"alert","data":{"t":"x","rule":"r"}}\n',
    );
    const { log, lines } = open(dir, now);
    expect(log.query(0, 11 * HOUR).changes.map((c) => c.rule)).toEqual(['cpu']);
    expect(lines).toEqual([`alert history: ${join(dir, 'alerts.ndjson')}: skipped 3 line(s) that are not alert history`]);
  });

  it('without a directory, keeps history in memory', () => {
    const { log } = open(null, { t: HOUR });
    log.append({ event: 'alert', data: change('cpu', 'firing', HOUR) });
    expect(log.query(0, 2 * HOUR).ranges).toHaveLength(1);
  });
});
