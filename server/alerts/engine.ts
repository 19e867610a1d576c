import type { AlertPayload, AlertSeverity, Gauge, Sample, SampleByTopic, Topic } from '../protocol.js';

export interface AlertRule {
  /** Unique; the page and the webhook name the alert by it. */
  name: string;
  metric: Gauge;
  /** Fires when the gauge is above this... */
  above: number;
  /** ...continuously for this long (0: at once). */
  forMs: number;
  severity: AlertSeverity;
  /** The channels its messages go to; absent: the default route. */
  channels?: string[];
  /** Hysteresis: once firing, it resolves only when the gauge drops below this (default: at or below `above`). */
  clearBelow?: number;
  /** While it fires, a reminder goes to its channels every this many ms of sample time. */
  repeatMs?: number;
  /** The one mount, sensor or container it watches, where the metric has several. */
  match?: AlertMatch;
}

/** What `match` may name, per metric: the key is the only one that metric accepts. */
export const MATCH_KEYS = { filesystem: 'mount', temperature: 'sensor', containerMemory: 'container', network: 'interface' } as const;
export type AlertMatch = { mount: string } | { sensor: string } | { container: string } | { interface: string };

const UNITS: Record<Gauge, { label: string; unit: string }> = {
  cpu: { label: 'CPU', unit: ' %' },
  memory: { label: 'memory used', unit: ' %' },
  filesystem: { label: 'fullest filesystem', unit: ' %' },
  lag: { label: 'event-loop lag p99', unit: ' ms' },
  errors: { label: 'failed requests (5xx, aborted) over the last minute', unit: ' %' },
  temperature: { label: 'temperature', unit: ' °C' },
  containerMemory: { label: 'container memory use of its limit', unit: ' %' },
  network: { label: 'network traffic (received + sent)', unit: ' B/s' },
};

/** The unit a gauge's values are in, with its leading space (` %`, ` ms`, ` °C`). */
export function unitOf(gauge: Gauge): string {
  return UNITS[gauge].unit;
}

/** Fewer requests than this in the minute make the error share meaningless (1 of 2 is not "50 % errors"). */
export const MIN_REQUESTS_FOR_ERROR_SHARE = 20;

/** A gauge's value; `subject` names what it is about when the gauge spans many (the container). */
type Reading = { gauge: Gauge; value: number; subject?: string } | null;
const percent = (part: number, whole: number) => (whole > 0 ? (part * 100) / whole : 0);

const READERS: { [T in Topic]?: (sample: SampleByTopic[T]) => Reading } = {
  cpu: (sample) => ({ gauge: 'cpu', value: sample.total }),
  memory: (sample) => (sample.total > 0 ? { gauge: 'memory', value: percent(sample.used, sample.total) } : null),
  filesystem: (sample) =>
    sample.mounts.length > 0 ? { gauge: 'filesystem', value: Math.max(...sample.mounts.map((m) => percent(m.used, m.size))) } : null,
  process: (sample) => ({ gauge: 'lag', value: sample.lagP99 }),
  requests: ({ window }) =>
    window.count >= MIN_REQUESTS_FOR_ERROR_SHARE ? { gauge: 'errors', value: percent(window.errors, window.count) } : null,
  temperature: (sample) => ({ gauge: 'temperature', value: sample.main }),
  network: (sample) => ({ gauge: 'network', value: sample.rx + sample.tx }),
  // No container with a limit reads 0, so an alert about one that went away resolves.
  containers: ({ closestToLimit }) =>
    closestToLimit
      ? { gauge: 'containerMemory', value: closestToLimit.percent, subject: closestToLimit.name }
      : { gauge: 'containerMemory', value: 0 },
};

/**
 * The gauge of the one mount, sensor or container a `match` names; null when the sample does not hold it
 * (a mount not mounted, a container not among those listed): the rule's state then stays as it is.
 */
export function matchedGauge(match: AlertMatch, topic: Topic, sample: Sample): Reading {
  if ('mount' in match && topic === 'filesystem') {
    const mount = (sample as SampleByTopic['filesystem']).mounts.find((m) => m.mount === match.mount);
    return mount ? { gauge: 'filesystem', value: percent(mount.used, mount.size), subject: mount.mount } : null;
  }
  if ('sensor' in match && topic === 'temperature') {
    const sensor = (sample as SampleByTopic['temperature']).sensors.find((s) => s.name === match.sensor);
    return sensor ? { gauge: 'temperature', value: sensor.celsius, subject: sensor.name } : null;
  }
  if ('interface' in match && topic === 'network') {
    const nic = (sample as SampleByTopic['network']).interfaces.find((i) => i.name === match.interface);
    return nic ? { gauge: 'network', value: nic.rx + nic.tx, subject: nic.name } : null;
  }
  if ('container' in match && topic === 'containers') {
    const { top, closestToLimit } = sample as SampleByTopic['containers'];
    if (closestToLimit?.name === match.container)
      return { gauge: 'containerMemory', value: closestToLimit.percent, subject: closestToLimit.name };
    const container = top.find((c) => c.name === match.container);
    if (!container || container.memory === null || !container.memoryLimit) return null;
    return { gauge: 'containerMemory', value: percent(container.memory, container.memoryLimit), subject: container.name };
  }
  return null;
}

/** The gauge a sample of `topic` gives, or null (a topic no rule looks at, or too little data). */
export function gaugeOf<T extends Topic>(topic: T, sample: SampleByTopic[T]): Reading {
  const read = READERS[topic] as ((sample: SampleByTopic[T]) => Reading) | undefined;
  return read ? read(sample) : null;
}

export function describeAlert(rule: AlertRule, value: number, state: AlertPayload['state'], subject?: string): string {
  const { unit } = UNITS[rule.metric];
  const label = subject ? `${UNITS[rule.metric].label} (${subject})` : UNITS[rule.metric].label;
  const shown = `${Math.round(value * 10) / 10}${unit}`;
  if (state === 'resolved') {
    const clears = rule.clearBelow === undefined ? '' : `, clears below ${rule.clearBelow}${unit}`;
    return `${label} back to ${shown} (${rule.name}: above ${rule.above}${unit}${clears})`;
  }
  const held = rule.forMs > 0 ? ` for ${Math.round(rule.forMs / 1000)} s` : '';
  return `${label} ${shown}, above ${rule.above}${unit}${held}`;
}

interface RuleState {
  /** Sample time the condition started to hold, while it holds. */
  pendingSince: number | null;
  firing: AlertPayload | null;
  /** Sample time of the newest message while firing (the change or the last reminder). */
  lastSent: number;
}

/**
 * Evaluates the rules on every sample, whether or not a browser is open, and emits one payload per change
 * of state (firing, resolved). Time is the samples' own, so a rule's `for` means sampled time.
 */
export class AlertEngine {
  private readonly states = new Map<string, RuleState>();

  /**
   * @param emit   each change of state (firing, resolved): the stream, the page, the channels
   * @param remind a rule's `repeat` while it still fires: the channels only (the state did not change)
   */
  constructor(
    private readonly rules: readonly AlertRule[],
    private readonly emit: (change: AlertPayload) => void,
    private readonly remind: (reminder: AlertPayload) => void = () => {},
  ) {
    for (const rule of rules) this.states.set(rule.name, { pendingSince: null, firing: null, lastSent: 0 });
  }

  observe(topic: Topic, sample: Sample): void {
    const reading = gaugeOf(topic, sample as SampleByTopic[Topic]);
    for (const rule of this.rules) {
      const own = rule.match ? matchedGauge(rule.match, topic, sample) : reading;
      if (!own || rule.metric !== own.gauge) continue;
      this.step(rule, this.states.get(rule.name) as RuleState, own, sample.t);
    }
  }

  /** Alerts firing now, oldest first. */
  active(): AlertPayload[] {
    const firing: AlertPayload[] = [];
    for (const state of this.states.values()) if (state.firing) firing.push(state.firing);
    return firing.sort((a, b) => a.since - b.since);
  }

  private step(rule: AlertRule, state: RuleState, reading: NonNullable<Reading>, t: number): void {
    const { value, subject } = reading;
    const change = (kind: AlertPayload['state'], since: number): AlertPayload => ({
      t,
      rule: rule.name,
      metric: rule.metric,
      state: kind,
      severity: rule.severity,
      value,
      threshold: rule.above,
      since,
      message: describeAlert(rule, value, kind, subject),
    });
    if (state.firing) {
      const clears = rule.clearBelow === undefined ? value <= rule.above : value < rule.clearBelow;
      if (clears) {
        state.pendingSince = null;
        state.firing = null;
        this.emit(change('resolved', t));
      } else if (rule.repeatMs !== undefined && t - state.lastSent >= rule.repeatMs) {
        state.lastSent = t;
        this.remind(change('firing', state.firing.since));
      }
      return;
    }
    if (value > rule.above) {
      state.pendingSince ??= t;
      if (t - state.pendingSince >= rule.forMs) {
        state.firing = change('firing', state.pendingSince);
        state.lastSent = t;
        this.emit(state.firing);
      }
      return;
    }
    state.pendingSince = null;
  }
}
