import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertEngine, type AlertRule, describeAlert, gaugeOf, MIN_REQUESTS_FOR_ERROR_SHARE } from '../../server/alerts/engine.js';
import {
  AlertRulesError,
  DEFAULT_ALERT_SETTINGS,
  DEFAULT_RULES,
  DEFAULT_THRESHOLDS,
  loadAlertSettings,
  parseAlertSettings,
} from '../../server/alerts/rules.js';
import type { AlertPayload, CpuSample, FilesystemSample, RequestsSample } from '../../server/protocol.js';

const cpu = (t: number, total: number): CpuSample => ({ t, total, user: total, system: 0, iowait: 0, cores: [total], load: [0, 0, 0] });
const rule = (overrides: Partial<AlertRule> = {}): AlertRule => ({
  name: 'cpu-busy',
  metric: 'cpu',
  above: 90,
  forMs: 0,
  severity: 'critical',
  ...overrides,
});

function engine(rules: AlertRule[]) {
  const changes: AlertPayload[] = [];
  return { alerts: new AlertEngine(rules, (change) => changes.push(change)), changes };
}

describe('alert engine edges', () => {
  it('fires above the level, not at it', () => {
    const { alerts, changes } = engine([rule()]);
    alerts.observe('cpu', cpu(0, 90));
    expect(changes).toEqual([]);
    alerts.observe('cpu', cpu(1000, 90.1));
    expect(changes.map((c) => c.state)).toEqual(['firing']);
  });

  it('fires once the value has been above for exactly `for`, with since the start of it', () => {
    const { alerts, changes } = engine([rule({ forMs: 2000 })]);
    alerts.observe('cpu', cpu(1000, 95));
    alerts.observe('cpu', cpu(2999, 95));
    expect(changes).toEqual([]);
    alerts.observe('cpu', cpu(3000, 95));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ t: 3000, since: 1000, state: 'firing' });
  });

  it('evaluates only the rules of the gauge a sample gives, each with its own state', () => {
    const { alerts, changes } = engine([
      rule({ name: 'a', above: 50 }),
      rule({ name: 'b', above: 80, severity: 'warning' }),
      rule({ name: 'm', metric: 'memory', above: 1 }),
    ]);
    alerts.observe('cpu', cpu(0, 60));
    alerts.observe('cpu', cpu(1, 85));
    expect(changes.map((c) => `${c.rule} ${c.state} ${c.severity}`)).toEqual(['a firing critical', 'b firing warning']);
    expect(alerts.active().map((a) => a.rule)).toEqual(['a', 'b']); // oldest first
    alerts.observe('cpu', cpu(2, 70));
    expect(changes.at(-1)).toMatchObject({ rule: 'b', state: 'resolved', since: 2 });
    expect(alerts.active().map((a) => a.rule)).toEqual(['a']);
    alerts.observe('network', { t: 3, rx: 1e9, tx: 1e9, interfaces: [] });
    expect(changes).toHaveLength(3);
  });

  it('lists active alerts oldest first, whatever the order of the rules', () => {
    const { alerts } = engine([rule({ name: 'late', above: 80 }), rule({ name: 'early', metric: 'memory', above: 10 })]);
    alerts.observe('memory', { t: 5, total: 100, used: 50, available: 50, cached: 0, buffers: 0, swapTotal: 0, swapUsed: 0 });
    alerts.observe('cpu', cpu(9, 95));
    expect(alerts.active().map((a) => a.rule)).toEqual(['early', 'late']);
  });

  it('reads each gauge from its topic', () => {
    const fs = (mounts: [number, number][]): FilesystemSample => ({
      t: 0,
      mounts: mounts.map(([used, size], i) => ({ mount: `/m${i}`, fs: `d${i}`, type: 'ext4', size, used })),
    });
    expect(
      gaugeOf(
        'filesystem',
        fs([
          [10, 100],
          [90, 200],
          [30, 40],
        ]),
      ),
    ).toEqual({ gauge: 'filesystem', value: 75 });
    expect(gaugeOf('filesystem', fs([]))).toBeNull();
    expect(gaugeOf('filesystem', fs([[5, 0]]))).toEqual({ gauge: 'filesystem', value: 0 });
    expect(gaugeOf('memory', { t: 0, total: 0, used: 0, available: 0, cached: 0, buffers: 0, swapTotal: 0, swapUsed: 0 })).toBeNull();
    expect(gaugeOf('process', { t: 0, cpu: 1, rss: 1, heapUsed: 1, heapTotal: 1, lagP50: 3, lagP99: 250, uptime: 1 })).toEqual({
      gauge: 'lag',
      value: 250,
    });
    expect(gaugeOf('temperature', { t: 0, main: 71, max: 80, sensors: [] })).toEqual({ gauge: 'temperature', value: 71 });
    expect(gaugeOf('cpu', cpu(0, 42))).toEqual({ gauge: 'cpu', value: 42 });
    expect(gaugeOf('disk', { t: 0, read: 1, write: 1 })).toBeNull();
  });

  it('reads the error share from 20 requests in the minute on', () => {
    const requests = (count: number, errors: number) =>
      ({ window: { ms: 60_000, count, errors, latency: { p50: 0, p90: 0, p99: 0, max: 0 } } }) as RequestsSample;
    expect(MIN_REQUESTS_FOR_ERROR_SHARE).toBe(20);
    expect(gaugeOf('requests', requests(20, 5))).toEqual({ gauge: 'errors', value: 25 });
    expect(gaugeOf('requests', requests(19, 5))).toBeNull();
  });

  it('says what happened in words, with the unit of the gauge', () => {
    const lag = rule({ name: 'event-loop-lag', metric: 'lag', above: 200, forMs: 0 });
    expect(describeAlert(lag, 250.06, 'firing')).toBe('event-loop lag p99 250.1 ms, above 200 ms');
    expect(describeAlert(lag, 12.34, 'resolved')).toBe('event-loop lag p99 back to 12.3 ms (event-loop-lag: above 200 ms)');
    expect(describeAlert(rule({ forMs: 90_400 }), 95, 'firing')).toBe('CPU 95 %, above 90 % for 90 s');
    expect(describeAlert(rule({ metric: 'memory', above: 80 }), 81, 'firing')).toBe('memory used 81 %, above 80 %');
    expect(describeAlert(rule({ metric: 'filesystem', above: 80 }), 81, 'firing')).toBe('fullest filesystem 81 %, above 80 %');
    expect(describeAlert(rule({ metric: 'temperature', above: 80 }), 81, 'firing')).toBe('temperature 81 °C, above 80 °C');
    expect(describeAlert(rule({ metric: 'errors', above: 5 }), 7, 'firing')).toBe(
      'failed requests (5xx, aborted) over the last minute 7 %, above 5 %',
    );
  });
});

describe('alert rules file edges', () => {
  it('keeps the default rules when the file has none, and turns alerting off with an empty list', () => {
    expect(parseAlertSettings({}, 'r.json').rules).toBe(DEFAULT_RULES);
    expect(parseAlertSettings({ rules: [] }, 'r.json').rules).toEqual([]);
    expect(parseAlertSettings({ thresholds: {} }, 'r.json').thresholds).toEqual(DEFAULT_THRESHOLDS);
    expect(loadAlertSettings(null)).toBe(DEFAULT_ALERT_SETTINGS);
  });

  it('defaults a rule to critical and to firing at once; takes a warning and a `for` of up to a day', () => {
    const { rules } = parseAlertSettings(
      {
        rules: [
          { name: 'a', metric: 'cpu', above: 1 },
          { name: 'b', metric: 'lag', above: 2, for: '1d', severity: 'warning' },
          { name: 'c', metric: 'errors', above: 3, severity: 'critical' },
        ],
      },
      'r.json',
    );
    expect(rules).toEqual([
      { name: 'a', metric: 'cpu', above: 1, forMs: 0, severity: 'critical' },
      { name: 'b', metric: 'lag', above: 2, forMs: 86_400_000, severity: 'warning' },
      { name: 'c', metric: 'errors', above: 3, forMs: 0, severity: 'critical' },
    ]);
  });

  it.each([
    [
      { rules: [{ name: 'a', metric: 'cpu', above: 1, for: '25h' }] },
      'r.json: rules[0].for: expected a duration such as "30s" or "5m", up to 1d',
    ],
    [{ rules: [{ name: 'a', metric: 'cpu', above: 1, for: 30 }] }, 'r.json: rules[0].for: expected a duration'],
    [{ rules: [{ name: 'a', metric: 'cpu', above: Number.POSITIVE_INFINITY }] }, 'r.json: rules[0].above: expected a number'],
    [
      { rules: [{ name: 'x'.repeat(65), metric: 'cpu', above: 1 }] },
      'r.json: rules[0].name: expected 1-64 letters, digits, ".", "_" or "-"',
    ],
    [{ rules: [{ name: '', metric: 'cpu', above: 1 }] }, 'rules[0].name'],
    [{ rules: [{ name: 1, metric: 'cpu', above: 1 }] }, 'rules[0].name'],
    [{ rules: [null] }, 'r.json: rules[0]: expected an object'],
    [{ rules: [[]] }, 'r.json: rules[0]: expected an object'],
    [{ rules: [{ name: 'a', metric: 'cpu', above: 1 }, 'x'] }, 'r.json: rules[1]: expected an object'],
    [{ rules: [{ name: 'a', metric: 5, above: 1 }] }, 'rules[0].metric: expected one of cpu, memory, filesystem, lag, errors, temperature'],
    [{ thresholds: [] }, 'r.json: thresholds: expected an object keyed by metric'],
    [{ thresholds: null }, 'r.json: thresholds: expected an object keyed by metric'],
    [{ thresholds: { cpu: 5 } }, 'r.json: thresholds.cpu: expected {"warning": number, "critical": number}'],
    [{ thresholds: { cpu: { warning: 1 } } }, 'r.json: thresholds.cpu: expected {"warning": number, "critical": number}'],
    [{ thresholds: { cpu: { warning: 1, critical: Number.NaN } } }, 'thresholds.cpu: expected {"warning": number'],
    [
      { thresholds: { cpu: { warning: 1, critical: 2, alarm: 3 } } },
      'r.json: thresholds.cpu: unknown key "alarm" (expected warning, critical)',
    ],
    [{ rulez: [] }, 'r.json: top level: unknown key "rulez" (expected rules, thresholds, channels, default_channels, public_url)'],
    [
      {
        rules: [
          { name: 'a', metric: 'cpu', above: 1 },
          { name: 'a', metric: 'lag', above: 1 },
        ],
      },
      'r.json: rules[1].name: "a" is used twice',
    ],
    [{ rules: [{ name: 'a', metric: 'cpu', above: 1, severity: 'info' }] }, 'r.json: rules[0].severity: expected "warning" or "critical"'],
    [null, 'r.json: top level: expected an object with "rules" and/or "thresholds"'],
    ['rules', 'r.json: top level: expected an object'],
  ])('refuses %j', (input, message) => {
    expect(() => parseAlertSettings(input, 'r.json')).toThrow(message);
    expect(() => parseAlertSettings(input, 'r.json')).toThrow(AlertRulesError);
  });

  it('takes a warning level equal to the critical one', () => {
    expect(parseAlertSettings({ thresholds: { lag: { warning: 50, critical: 50 } } }, 'r.json').thresholds.lag).toEqual({
      warning: 50,
      critical: 50,
    });
  });

  it('reads the file, and names it in what it refuses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-rules-'));
    const path = join(dir, 'rules.json');
    writeFileSync(path, '{"thresholds": {"cpu": {"warning": 1, "critical": 2}}}');
    expect(loadAlertSettings(path).thresholds.cpu).toEqual({ warning: 1, critical: 2 });
    writeFileSync(path, '{"rules": [\n{oops}\n]}');
    expect(() => loadAlertSettings(path)).toThrow(`${path}: not valid JSON (Expected property name or '}' in JSON at position 13)`);
    expect(() => loadAlertSettings(join(dir, 'missing.json'))).toThrow(`${join(dir, 'missing.json')}: cannot read the file (ENOENT)`);
    expect(() => loadAlertSettings(dir)).toThrow(`${dir}: cannot read the file (EISDIR)`);
  });

  it('has the default levels the page colours by', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({
      cpu: { warning: 75, critical: 90 },
      memory: { warning: 80, critical: 90 },
      filesystem: { warning: 80, critical: 90 },
      lag: { warning: 100, critical: 200 },
      errors: { warning: 1, critical: 5 },
      temperature: { warning: 75, critical: 90 },
      containerMemory: { warning: 80, critical: 90 },
    });
    expect(DEFAULT_RULES.map((r) => `${r.name} ${r.metric} ${r.above} ${r.forMs} ${r.severity}`)).toEqual([
      'cpu-busy cpu 90 60000 critical',
      'memory-high memory 90 0 critical',
      'filesystem-full filesystem 90 0 critical',
      'event-loop-lag lag 200 0 critical',
      'request-errors errors 5 0 critical',
      'container-memory-limit containerMemory 90 0 critical',
    ]);
  });
});

describe('the rules file, values of the wrong type', () => {
  const refusal = (input: unknown) => {
    try {
      parseAlertSettings(input, 'r.json');
    } catch (error) {
      return error instanceof AlertRulesError ? error.message : `not an AlertRulesError: ${String(error)}`;
    }
    return 'accepted';
  };
  const rule = { name: 'cpu-high', metric: 'cpu', for: '1m' };

  it('refuses a threshold above given as text', () => {
    expect(refusal({ rules: [{ ...rule, above: '90' }] })).toMatch(/rules\[0\]\.above: expected a number/);
  });

  it('refuses a threshold level that is null, or a warning or critical given as text, with one message', () => {
    const levels = /thresholds\.cpu: expected \{"warning": number, "critical": number\}/;
    expect(refusal({ thresholds: { cpu: null } })).toMatch(levels);
    expect(refusal({ thresholds: { cpu: { warning: '70', critical: 90 } } })).toMatch(levels);
    expect(refusal({ thresholds: { cpu: { warning: 70, critical: '90' } } })).toMatch(levels);
    expect(refusal({ thresholds: { cpu: { warning: '70', critical: '90' } } })).toMatch(levels);
  });
});
