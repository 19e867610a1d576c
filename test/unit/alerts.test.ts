import { describe, expect, it } from 'vitest';
import { AlertEngine, type AlertRule, gaugeOf, MIN_REQUESTS_FOR_ERROR_SHARE } from '../../server/alerts/engine.js';
import { DEFAULT_ALERT_SETTINGS, parseAlertSettings } from '../../server/alerts/rules.js';
import type { AlertPayload, ContainersSample, CpuSample, RequestsSample } from '../../server/protocol.js';

const cpu = (t: number, total: number): CpuSample => ({ t, total, user: total, system: 0, iowait: 0, cores: [total], load: [0, 0, 0] });
const rule: AlertRule = { name: 'cpu-busy', metric: 'cpu', above: 90, forMs: 60_000, severity: 'critical' };

function engine(rules: AlertRule[] = [rule]) {
  const changes: AlertPayload[] = [];
  return { alerts: new AlertEngine(rules, (change) => changes.push(change)), changes };
}

describe('alert rules', () => {
  it('fire only once the condition has held for the whole `for`, then resolve when it stops', () => {
    const { alerts, changes } = engine();
    for (let s = 0; s < 60; s++) alerts.observe('cpu', cpu(s * 1000, 95));
    expect(changes).toEqual([]); // 59 s above: not yet
    alerts.observe('cpu', cpu(60_000, 96));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      rule: 'cpu-busy',
      metric: 'cpu',
      state: 'firing',
      severity: 'critical',
      value: 96,
      threshold: 90,
      since: 0,
    });
    expect(changes[0]?.message).toMatch(/CPU 96 %, above 90 % for 60 s/);
    expect(alerts.active().map((a) => a.rule)).toEqual(['cpu-busy']);

    alerts.observe('cpu', cpu(61_000, 97)); // still firing: no new event
    alerts.observe('cpu', cpu(62_000, 40));
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({ state: 'resolved', value: 40, since: 62_000 });
    expect(alerts.active()).toEqual([]);
  });

  it('start counting again after a dip: a spike that comes and goes never fires', () => {
    const { alerts, changes } = engine();
    for (let s = 0; s < 300; s++) alerts.observe('cpu', cpu(s * 1000, s % 30 === 29 ? 10 : 99));
    expect(changes).toEqual([]);
  });

  it('read each gauge from its topic, and ignore an error share of too few requests', () => {
    expect(gaugeOf('memory', { t: 0, total: 200, used: 150, available: 50, cached: 0, buffers: 0, swapTotal: 0, swapUsed: 0 })).toEqual({
      gauge: 'memory',
      value: 75,
    });
    const requests = (count: number, errors: number) =>
      ({ window: { ms: 60_000, count, errors, latency: { p50: 0, p90: 0, p99: 0, max: 0 } } }) as RequestsSample;
    expect(gaugeOf('requests', requests(MIN_REQUESTS_FOR_ERROR_SHARE - 1, 10))).toBeNull();
    expect(gaugeOf('requests', requests(100, 7))).toEqual({ gauge: 'errors', value: 7 });
    expect(gaugeOf('network', { t: 0, rx: 100, tx: 20, interfaces: [] })).toEqual({ gauge: 'network', value: 120 });
    expect(gaugeOf('disk', { t: 0, read: 1, write: 1 })).toBeNull();
  });

  it('has the defaults the issue names', () => {
    const byMetric = Object.fromEntries(DEFAULT_ALERT_SETTINGS.rules.map((r) => [r.metric, r]));
    expect(byMetric.cpu).toMatchObject({ above: 90, forMs: 60_000 });
    expect(byMetric.memory).toMatchObject({ above: 90 });
    expect(byMetric.filesystem).toMatchObject({ above: 90 });
    expect(byMetric.lag).toMatchObject({ above: 200 });
    expect(byMetric.errors).toMatchObject({ above: 5 });
    expect(byMetric.containerMemory).toMatchObject({ name: 'container-memory-limit', above: 90, forMs: 0 });
  });

  it('fire container-memory-limit for the container above 90 % of its limit, naming it, and resolve when it goes', () => {
    const { alerts, changes } = engine(DEFAULT_ALERT_SETTINGS.rules);
    const containers = (t: number, closestToLimit: ContainersSample['closestToLimit']): ContainersSample => ({
      t,
      count: 3,
      top: [],
      closestToLimit,
    });
    alerts.observe('containers', containers(0, { id: '/docker/abc', name: 'shop-web', percent: 89.9 }));
    expect(changes).toEqual([]);
    alerts.observe('containers', containers(5000, { id: '/docker/abc', name: 'shop-web', percent: 93.1 }));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      rule: 'container-memory-limit',
      metric: 'containerMemory',
      state: 'firing',
      value: 93.1,
      threshold: 90,
    });
    expect(changes[0]?.message).toBe('container memory use of its limit (shop-web) 93.1 %, above 90 %');
    alerts.observe('containers', containers(10_000, null)); // gone, and no other container has a limit
    expect(changes[1]).toMatchObject({ rule: 'container-memory-limit', state: 'resolved', value: 0 });
  });
});

describe('alert rules file', () => {
  it('reads rules and merges thresholds over the defaults', () => {
    const settings = parseAlertSettings(
      {
        rules: [{ name: 'hot', metric: 'temperature', above: 80, for: '30s', severity: 'warning' }],
        thresholds: { cpu: { warning: 50, critical: 70 } },
      },
      'rules.json',
    );
    expect(settings.rules).toEqual([{ name: 'hot', metric: 'temperature', above: 80, forMs: 30_000, severity: 'warning' }]);
    expect(settings.thresholds.cpu).toEqual({ warning: 50, critical: 70 });
    expect(settings.thresholds.memory).toEqual({ warning: 80, critical: 90 });
  });

  it.each([
    [[], /top level: expected an object/],
    [{ rulez: [] }, /top level: unknown key "rulez"/],
    [{ rules: {} }, /rules: expected a list/],
    [{ rules: [{ name: 'a b', metric: 'cpu', above: 1 }] }, /rules\[0\]\.name: expected 1-64 letters/],
    [{ rules: [{ name: 'a', metric: 'gpu', above: 1 }] }, /rules\[0\]\.metric: expected one of cpu, memory/],
    [{ rules: [{ name: 'a', metric: 'cpu', above: '90' }] }, /rules\[0\]\.above: expected a number/],
    [{ rules: [{ name: 'a', metric: 'cpu', above: 90, for: 'soon' }] }, /rules\[0\]\.for: expected a duration/],
    [{ rules: [{ name: 'a', metric: 'cpu', above: 90, severity: 'fatal' }] }, /rules\[0\]\.severity/],
    [{ rules: [{ name: 'a', metric: 'cpu', above: 90, colour: 'red' }] }, /rules\[0\]: unknown key "colour"/],
    [
      {
        rules: [
          { name: 'a', metric: 'cpu', above: 90 },
          { name: 'a', metric: 'memory', above: 90 },
        ],
      },
      /"a" is used twice/,
    ],
    [{ thresholds: { gpu: { warning: 1, critical: 2 } } }, /thresholds: unknown key "gpu"/],
    [{ '\n\r': [] }, /top level: unknown key "\\n\\r"/],
    [{ thresholds: { cpu: { warning: 95, critical: 90 } } }, /thresholds.cpu: warning must not be above critical/],
    [{ thresholds: { cpu: { warning: 'x', critical: 90 } } }, /thresholds.cpu: expected \{"warning": number/],
  ])('rejects %j with one line that names the place', (input, message) => {
    expect(() => parseAlertSettings(input, 'rules.json')).toThrow(message);
    try {
      parseAlertSettings(input, 'rules.json');
    } catch (error) {
      expect((error as Error).message).toMatch(/^rules\.json: /);
      expect((error as Error).message).not.toMatch(/[\r\n]/);
    }
  });
});
