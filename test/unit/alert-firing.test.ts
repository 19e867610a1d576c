import { describe, expect, it } from 'vitest';
import { AlertEngine, type AlertRule } from '../../server/alerts/engine.js';
import { AlertRulesError, parseAlertSettings } from '../../server/alerts/rules.js';
import type { AlertPayload, ContainersSample, CpuSample, FilesystemSample, TemperatureSample } from '../../server/protocol.js';

const MINUTE = 60_000;
const cpu = (t: number, total: number): CpuSample => ({ t, total, user: total, system: 0, iowait: 0, cores: [total], load: [0, 0, 0] });

function engine(rules: AlertRule[]) {
  const changes: AlertPayload[] = [];
  const reminders: AlertPayload[] = [];
  const alerts = new AlertEngine(
    rules,
    (change) => changes.push(change),
    (reminder) => reminders.push(reminder),
  );
  return { alerts, changes, reminders };
}

describe('firing rules', () => {
  it('clear_below: once firing, a rule stays firing until the gauge drops below it', () => {
    const { alerts, changes } = engine([{ name: 'cpu', metric: 'cpu', above: 90, clearBelow: 80, forMs: 0, severity: 'critical' }]);
    alerts.observe('cpu', cpu(0, 95));
    alerts.observe('cpu', cpu(1000, 85)); // below `above`, not below clear_below: still firing
    alerts.observe('cpu', cpu(2000, 80)); // not below 80
    expect(changes.map((c) => c.state)).toEqual(['firing']);
    alerts.observe('cpu', cpu(3000, 79.9));
    expect(changes.map((c) => `${c.state} ${c.since}`)).toEqual(['firing 0', 'resolved 3000']);
    expect(changes[1]?.message).toBe('CPU back to 79.9 % (cpu: above 90 %, clears below 80 %)');
    alerts.observe('cpu', cpu(4000, 85)); // under `above` again: it does not fire again
    expect(changes).toHaveLength(2);
  });

  it('without clear_below, it resolves at or below `above`', () => {
    const { alerts, changes } = engine([{ name: 'cpu', metric: 'cpu', above: 90, forMs: 0, severity: 'critical' }]);
    alerts.observe('cpu', cpu(0, 95));
    alerts.observe('cpu', cpu(1000, 90));
    expect(changes.map((c) => c.state)).toEqual(['firing', 'resolved']);
  });

  it('repeat: a reminder every N minutes of sample time while firing, with the value now and the first `since`; none after it resolves', () => {
    const { alerts, changes, reminders } = engine([
      { name: 'cpu', metric: 'cpu', above: 90, forMs: MINUTE, repeatMs: 10 * MINUTE, severity: 'warning' },
    ]);
    for (let m = 0; m <= 35; m++) alerts.observe('cpu', cpu(m * MINUTE, 91 + (m % 5)));
    alerts.observe('cpu', cpu(36 * MINUTE, 10));
    for (let m = 37; m <= 60; m++) alerts.observe('cpu', cpu(m * MINUTE, 10));
    expect(changes.map((c) => `${c.state} at ${c.t / MINUTE}`)).toEqual(['firing at 1', 'resolved at 36']);
    expect(reminders.map((r) => r.t / MINUTE)).toEqual([11, 21, 31]);
    expect(reminders[0]).toMatchObject({ state: 'firing', since: 0, value: 92, severity: 'warning' });
    expect(alerts.active().map((a) => a.t)).toEqual([]);
  });

  it('match mount: the rule watches that mount alone and names it; a sample without it changes nothing', () => {
    const fs = (t: number, root: number, data: number | null): FilesystemSample => ({
      t,
      mounts: [
        { mount: '/', fs: 'sda1', type: 'ext4', size: 100, used: root },
        ...(data === null ? [] : [{ mount: '/var', fs: 'sdb1', type: 'ext4', size: 200, used: data }]),
      ],
    });
    const { alerts, changes } = engine([
      { name: 'var-full', metric: 'filesystem', above: 80, forMs: 0, severity: 'critical', match: { mount: '/var' } },
    ]);
    alerts.observe('filesystem', fs(0, 99, 20)); // the root is full, /var is not
    expect(changes).toEqual([]);
    alerts.observe('filesystem', fs(1, 10, 180));
    expect(changes[0]).toMatchObject({ state: 'firing', value: 90, message: 'fullest filesystem (/var) 90 %, above 80 %' });
    alerts.observe('filesystem', fs(2, 10, null)); // /var unmounted: no reading, still firing
    expect(changes).toHaveLength(1);
    alerts.observe('filesystem', fs(3, 10, 100));
    expect(changes.map((c) => c.state)).toEqual(['firing', 'resolved']);
  });

  it('match interface: received + sent bytes per second of that interface', () => {
    const { alerts, changes } = engine([
      { name: 'uplink', metric: 'network', above: 1e6, forMs: 0, severity: 'warning', match: { interface: 'eth1' } },
    ]);
    const network = (t: number, eth0: number, eth1: number) => ({
      t,
      rx: eth0 + eth1,
      tx: 0,
      interfaces: [
        { name: 'eth0', rx: eth0, tx: 0 },
        { name: 'eth1', rx: eth1 / 2, tx: eth1 / 2 },
      ],
    });
    alerts.observe('network', network(0, 5e6, 1e5)); // eth0 is busy, eth1 is not
    expect(changes).toEqual([]);
    alerts.observe('network', network(1, 0, 2e6));
    expect(changes[0]).toMatchObject({
      rule: 'uplink',
      value: 2e6,
      message: 'network traffic (received + sent) (eth1) 2000000 B/s, above 1000000 B/s',
    });
  });

  it('match sensor and container', () => {
    const temperature = (t: number, gpu: number): TemperatureSample => ({
      t,
      main: 40,
      max: gpu,
      sensors: [
        { name: 'cpu', celsius: 40 },
        { name: 'gpu', celsius: gpu },
      ],
    });
    const containers = (t: number, memory: number): ContainersSample =>
      ({
        t,
        count: 2,
        closestToLimit: { id: '/a', name: 'cache', percent: 99 },
        top: [{ id: '/b', name: 'db', memory, memoryLimit: 1000 }],
      }) as ContainersSample;
    const { alerts, changes } = engine([
      { name: 'gpu-hot', metric: 'temperature', above: 80, forMs: 0, severity: 'critical', match: { sensor: 'gpu' } },
      { name: 'db-memory', metric: 'containerMemory', above: 90, forMs: 0, severity: 'critical', match: { container: 'db' } },
    ]);
    alerts.observe('temperature', temperature(0, 70));
    alerts.observe('containers', containers(0, 500)); // "cache" is at 99 %, but the rule is about "db"
    expect(changes).toEqual([]);
    alerts.observe('temperature', temperature(1, 85));
    alerts.observe('containers', containers(1, 950));
    expect(changes.map((c) => `${c.rule} ${c.value} ${c.message}`)).toEqual([
      'gpu-hot 85 temperature (gpu) 85 °C, above 80 °C',
      'db-memory 95 container memory use of its limit (db) 95 %, above 90 %',
    ]);
  });
});

describe('firing rules in the rules file', () => {
  const rule = (extra: Record<string, unknown>) => ({ rules: [{ name: 'r', metric: 'filesystem', above: 90, ...extra }] });
  const error = (input: unknown) => {
    try {
      parseAlertSettings(input, 'rules.json', {});
    } catch (caught) {
      expect(caught).toBeInstanceOf(AlertRulesError);
      return (caught as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('reads clear_below, repeat and match', () => {
    const settings = parseAlertSettings(rule({ clear_below: 85, repeat: '30m', match: { mount: '/var' } }), 'rules.json', {});
    expect(settings.rules[0]).toEqual({
      name: 'r',
      metric: 'filesystem',
      above: 90,
      forMs: 0,
      severity: 'critical',
      clearBelow: 85,
      repeatMs: 30 * MINUTE,
      match: { mount: '/var' },
    });
  });

  it('refuses a clear_below above `above`, a repeat under a minute, and a match the metric does not have', () => {
    expect(error(rule({ clear_below: 95 }))).toBe('rules.json: rules[0].clear_below: expected a number at or below "above" (90)');
    expect(error(rule({ repeat: '30s' }))).toBe('rules.json: rules[0].repeat: expected a duration from "1m" to "7d", such as "30m"');
    expect(error(rule({ match: { sensor: 'gpu' } }))).toBe('rules.json: rules[0].match: unknown key "sensor" (expected mount)');
    expect(error({ rules: [{ name: 'r', metric: 'cpu', above: 1, match: { core: '0' } }] })).toBe(
      'rules.json: rules[0].match: metric cpu has one value; match is for filesystem, temperature, containerMemory, network',
    );
    expect(error(rule({ match: { mount: '' } }))).toBe('rules.json: rules[0].match.mount: expected a name, 1-256 characters');
  });
});
