import { readFileSync } from 'node:fs';
import { parseDuration } from '../lib/duration.js';
import { oneLine } from '../lib/errors.js';
import { GAUGES, type Gauge, type Level, type Thresholds } from '../protocol.js';
import { type ChannelConfig, parseChannel } from './channel-config.js';
import { type AlertMatch, type AlertRule, MATCH_KEYS } from './engine.js';

export interface AlertSettings {
  rules: AlertRule[];
  thresholds: Thresholds;
  /** Where alert messages go (secrets already read); none when absent. */
  channels?: ChannelConfig[];
  /** Channels of the rules that name none; null or absent: every channel. */
  defaultChannels?: string[] | null;
  /** The board's address as people reach it, for the link in each message; `--public-url` wins over it. */
  publicUrl?: URL | null;
}

/** The rules a host gets without `--alert-rules`. */
export const DEFAULT_RULES: AlertRule[] = [
  { name: 'cpu-busy', metric: 'cpu', above: 90, forMs: 60_000, severity: 'critical' },
  { name: 'memory-high', metric: 'memory', above: 90, forMs: 0, severity: 'critical' },
  { name: 'filesystem-full', metric: 'filesystem', above: 90, forMs: 0, severity: 'critical' },
  { name: 'event-loop-lag', metric: 'lag', above: 200, forMs: 0, severity: 'critical' },
  { name: 'request-errors', metric: 'errors', above: 5, forMs: 0, severity: 'critical' },
  { name: 'container-memory-limit', metric: 'containerMemory', above: 90, forMs: 0, severity: 'critical' },
];

/** Levels of the gauges the page colours (network traffic has none: no level suits every link). */
export const DEFAULT_THRESHOLDS: Required<Omit<Thresholds, 'network'>> = {
  cpu: { warning: 75, critical: 90 },
  memory: { warning: 80, critical: 90 },
  filesystem: { warning: 80, critical: 90 },
  lag: { warning: 100, critical: 200 },
  errors: { warning: 1, critical: 5 },
  temperature: { warning: 75, critical: 90 },
  containerMemory: { warning: 80, critical: 90 },
};

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  rules: DEFAULT_RULES,
  thresholds: DEFAULT_THRESHOLDS,
  channels: [],
  defaultChannels: null,
  publicUrl: null,
};

/** A rules file that cannot be used; the message fits on one line and names the place. */
export class AlertRulesError extends Error {}

const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

type Env = Record<string, string | undefined>;

/**
 * Reads `--alert-rules`: `{"rules": [...], "thresholds": {...}, "channels": [...], "default_channels": [...],
 * "public_url": "..."}`, all optional. `rules` replaces the defaults (an empty list turns alerting off);
 * `thresholds` is merged over the default levels. Channel secrets are read from `env` or files now.
 */
export function loadAlertSettings(path: string | null, env: Env = process.env): AlertSettings {
  if (path === null) return DEFAULT_ALERT_SETTINGS;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AlertRulesError(`${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The parser quotes the text it stopped at, which may hold line breaks.
    throw new AlertRulesError(`${path}: not valid JSON (${oneLine((error as Error).message)})`);
  }
  return parseAlertSettings(parsed, path, env);
}

export function parseAlertSettings(input: unknown, where: string, env: Env = process.env): AlertSettings {
  const fail = (place: string, why: string) => new AlertRulesError(`${where}: ${place}: ${why}`);
  if (!isObject(input)) throw fail('top level', 'expected an object with "rules" and/or "thresholds"');
  checkKeys(input, ['rules', 'thresholds', 'channels', 'default_channels', 'public_url'], 'top level', fail);

  const channels: ChannelConfig[] = [];
  if (input.channels !== undefined) {
    if (!Array.isArray(input.channels) || input.channels.length > 32) throw fail('channels', 'expected a list of up to 32');
    input.channels.forEach((raw: unknown, i: number) => {
      const channel = parseChannel(raw, `channels[${i}]`, fail, env);
      if (channels.some((c) => c.name === channel.name)) throw fail(`channels[${i}].name`, `"${channel.name}" is used twice`);
      channels.push(channel);
    });
  }
  const channelNames = (raw: unknown, place: string): string[] => {
    if (!Array.isArray(raw) || !raw.every((name) => typeof name === 'string')) throw fail(place, 'expected a list of channel names');
    for (const name of raw as string[]) {
      if (!channels.some((c) => c.name === name)) throw fail(place, `no channel named ${JSON.stringify(name.slice(0, 64))}`);
    }
    return raw as string[];
  };
  const defaultChannels = input.default_channels === undefined ? null : channelNames(input.default_channels, 'default_channels');
  let publicUrl: URL | null = null;
  if (input.public_url !== undefined) {
    publicUrl = typeof input.public_url === 'string' && URL.canParse(input.public_url) ? new URL(input.public_url) : null;
    if (!publicUrl || (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:')) {
      throw fail('public_url', 'expected the http(s) URL people open the board at');
    }
  }

  let rules = DEFAULT_RULES;
  if (input.rules !== undefined) {
    if (!Array.isArray(input.rules)) throw fail('rules', 'expected a list');
    const names = new Set<string>();
    rules = input.rules.map((raw: unknown, i: number) => {
      const place = `rules[${i}]`;
      if (!isObject(raw)) throw fail(place, 'expected an object');
      checkKeys(raw, ['name', 'metric', 'above', 'for', 'severity', 'channels', 'clear_below', 'repeat', 'match'], place, fail);
      const { name, metric, above, severity } = raw;
      if (typeof name !== 'string' || !RULE_NAME.test(name)) throw fail(`${place}.name`, 'expected 1-64 letters, digits, ".", "_" or "-"');
      if (names.has(name)) throw fail(`${place}.name`, `"${name}" is used twice`);
      names.add(name);
      if (!isGauge(metric)) throw fail(`${place}.metric`, `expected one of ${GAUGES.join(', ')}`);
      if (typeof above !== 'number' || !Number.isFinite(above)) throw fail(`${place}.above`, 'expected a number');
      const forMs = raw.for === undefined ? 0 : typeof raw.for === 'string' ? parseDuration(raw.for) : null;
      if (forMs === null || forMs > 86_400_000) throw fail(`${place}.for`, 'expected a duration such as "30s" or "5m", up to 1d');
      if (severity !== undefined && severity !== 'warning' && severity !== 'critical') {
        throw fail(`${place}.severity`, 'expected "warning" or "critical"');
      }
      const rule: AlertRule = { name, metric, above, forMs, severity: severity ?? 'critical' };
      if (raw.channels !== undefined) rule.channels = channelNames(raw.channels, `${place}.channels`);
      if (raw.clear_below !== undefined) {
        if (typeof raw.clear_below !== 'number' || !Number.isFinite(raw.clear_below) || raw.clear_below > above) {
          throw fail(`${place}.clear_below`, `expected a number at or below "above" (${above})`);
        }
        rule.clearBelow = raw.clear_below;
      }
      if (raw.repeat !== undefined) {
        const repeatMs = typeof raw.repeat === 'string' ? parseDuration(raw.repeat) : null;
        if (repeatMs === null || repeatMs < 60_000 || repeatMs > 7 * 86_400_000) {
          throw fail(`${place}.repeat`, 'expected a duration from "1m" to "7d", such as "30m"');
        }
        rule.repeatMs = repeatMs;
      }
      if (raw.match !== undefined) rule.match = parseMatch(raw.match, metric, `${place}.match`, fail);
      return rule;
    });
  }

  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS };
  if (input.thresholds !== undefined) {
    if (!isObject(input.thresholds)) throw fail('thresholds', 'expected an object keyed by metric');
    checkKeys(input.thresholds, GAUGES, 'thresholds', fail);
    for (const [gauge, raw] of Object.entries(input.thresholds)) {
      const place = `thresholds.${gauge}`;
      if (!isObject(raw)) throw fail(place, 'expected {"warning": number, "critical": number}');
      checkKeys(raw, ['warning', 'critical'], place, fail);
      const { warning, critical } = raw;
      if (typeof warning !== 'number' || typeof critical !== 'number' || !Number.isFinite(warning) || !Number.isFinite(critical)) {
        throw fail(place, 'expected {"warning": number, "critical": number}');
      }
      if (warning > critical) throw fail(place, 'warning must not be above critical');
      thresholds[gauge as Gauge] = { warning, critical } satisfies Level;
    }
  }
  return { rules, thresholds, channels, defaultChannels, publicUrl };
}

/** `{"mount": "/var"}` for filesystem, `{"sensor": ...}` for temperature, `{"container": ...}` for containerMemory. */
function parseMatch(raw: unknown, metric: Gauge, place: string, fail: (place: string, why: string) => Error): AlertMatch {
  const key = (MATCH_KEYS as Partial<Record<Gauge, string>>)[metric];
  if (!key) throw fail(place, `metric ${metric} has one value; match is for ${Object.keys(MATCH_KEYS).join(', ')}`);
  if (!isObject(raw)) throw fail(place, `expected {"${key}": "..."}`);
  checkKeys(raw, [key], place, fail);
  const value = raw[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > 256)
    throw fail(`${place}.${key}`, 'expected a name, 1-256 characters');
  return { [key]: value } as AlertMatch;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isGauge(value: unknown): value is Gauge {
  return typeof value === 'string' && (GAUGES as readonly string[]).includes(value);
}

function checkKeys(
  object: Record<string, unknown>,
  allowed: readonly string[],
  place: string,
  fail: (place: string, why: string) => Error,
): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw fail(place, `unknown key ${JSON.stringify(key)} (expected ${allowed.join(', ')})`);
  }
}
