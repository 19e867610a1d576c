import fc from 'fast-check';
import { type AgentInfo, DATA_FIELD, EVENT_FIELD } from '../../server/fleet/keys.js';
import {
  type AlertPayload,
  type CollectorHealth,
  GAUGES,
  type LatencySummary,
  type Level,
  type LoggedEventName,
  type PayloadOf,
  TOPICS,
} from '../../server/protocol.js';

/**
 * Payloads for the fuzz tests, built from the protocol's types (not from the hub's schemas, which they
 * test): valid ones of every event type, and copies broken in one place for sure.
 */

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
/** Any code points: newlines, quotes, NUL, astral planes. */
const text = fc.string({ unit: 'binary', maxLength: 24 });
const list = <T>(item: fc.Arbitrary<T>) => fc.array(item, { maxLength: 6 });

const latency: fc.Arbitrary<LatencySummary> = fc.record({ p50: finite, p90: finite, p99: finite, max: finite });

const collectorHealth: fc.Arbitrary<CollectorHealth> = fc.record(
  {
    topic: fc.constantFrom(...TOPICS),
    ok: fc.boolean(),
    source: text,
    cadenceMs: finite,
    error: text,
    failures: finite,
    lastOk: fc.option(finite, { nil: null }),
  },
  { requiredKeys: ['topic', 'ok', 'source', 'cadenceMs', 'failures', 'lastOk'] },
);

export const alertPayload: fc.Arbitrary<AlertPayload> = fc.record({
  t: finite,
  rule: text,
  metric: fc.constantFrom(...GAUGES),
  state: fc.constantFrom('firing', 'resolved'),
  severity: fc.constantFrom('warning', 'critical'),
  value: finite,
  threshold: finite,
  since: finite,
  message: text,
});

export const PAYLOADS: { [E in LoggedEventName]: fc.Arbitrary<PayloadOf<E>> } = {
  cpu: fc.record({
    t: finite,
    total: finite,
    user: finite,
    system: finite,
    iowait: finite,
    cores: list(finite),
    load: fc.tuple(finite, finite, finite),
  }),
  memory: fc.record({
    t: finite,
    total: finite,
    used: finite,
    available: finite,
    cached: finite,
    buffers: finite,
    swapTotal: finite,
    swapUsed: finite,
  }),
  network: fc.record({ t: finite, rx: finite, tx: finite, interfaces: list(fc.record({ name: text, rx: finite, tx: finite })) }),
  disk: fc.record({ t: finite, read: finite, write: finite }),
  filesystem: fc.record({ t: finite, mounts: list(fc.record({ mount: text, fs: text, type: text, size: finite, used: finite })) }),
  temperature: fc.record({ t: finite, main: finite, max: finite, sensors: list(fc.record({ name: text, celsius: finite })) }),
  process: fc.record(
    {
      t: finite,
      cpu: finite,
      rss: finite,
      heapUsed: finite,
      heapTotal: finite,
      lagP50: finite,
      lagP99: finite,
      loopBusy: finite,
      uptime: finite,
    },
    { requiredKeys: ['t', 'cpu', 'rss', 'heapUsed', 'heapTotal', 'lagP50', 'lagP99', 'uptime'] },
  ),
  processes: fc.record({
    t: finite,
    count: finite,
    top: list(fc.record({ pid: finite, name: text, user: text, container: fc.option(text, { nil: null }), cpu: finite, rss: finite })),
  }),
  containers: fc.record({
    t: finite,
    count: finite,
    top: list(
      fc.record({
        id: text,
        name: text,
        kind: fc.constantFrom('docker', 'podman', 'kubernetes', 'systemd', 'cgroup'),
        image: fc.option(text, { nil: null }),
        command: text,
        cpu: fc.option(finite, { nil: null }),
        cpuOfLimit: fc.option(finite, { nil: null }),
        memory: fc.option(finite, { nil: null }),
        memoryLimit: fc.option(finite, { nil: null }),
        ioRead: fc.option(finite, { nil: null }),
        ioWrite: fc.option(finite, { nil: null }),
        netRx: fc.option(finite, { nil: null }),
        netTx: fc.option(finite, { nil: null }),
        pids: finite,
        pressure: fc.option(fc.record({ cpu: finite, memory: finite, io: finite }), { nil: null }),
      }),
    ),
    closestToLimit: fc.option(fc.record({ id: text, name: text, percent: finite }), { nil: null }),
  }),
  requests: fc.record({
    t: finite,
    source: fc.constantFrom('self', 'embedded', 'proxy'),
    count: finite,
    rate: finite,
    inFlight: finite,
    status: fc.record({ '1xx': finite, '2xx': finite, '3xx': finite, '4xx': finite, '5xx': finite, aborted: finite }),
    latency,
    bytes: finite,
    window: fc.record({ ms: finite, count: finite, errors: finite, latency }),
    routes: list(fc.record({ route: text, count: finite, errors: finite, latency })),
  }),
  health: fc.record({ t: finite, collectors: list(collectorHealth) }),
  alert: alertPayload,
  silence: fc.record({ t: finite, rule: text, until: fc.option(finite, { nil: null }) }),
};

export const EVENT_NAMES = Object.keys(PAYLOADS) as LoggedEventName[];

export const validEvent: fc.Arbitrary<{ event: LoggedEventName; data: unknown }> = fc
  .constantFrom(...EVENT_NAMES)
  .chain((event) => (PAYLOADS[event] as fc.Arbitrary<unknown>).map((data) => ({ event, data })));

type Path = (string | number)[];

function pathsOf(value: unknown, path: Path = []): Path[] {
  const paths: Path[] = [path];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) paths.push(...pathsOf(item, [...path, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...path, key]));
  }
  return paths;
}

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
const OF_KIND: Record<string, unknown> = { number: 7, string: '7', boolean: true, array: [], object: {}, null: null };
/** A container's fields that take null beside their own kind (figures a host may not have). */
const CONTAINER_NULLABLE: Record<string, string> = {
  image: 'string',
  cpu: 'number',
  cpuOfLimit: 'number',
  memory: 'number',
  memoryLimit: 'number',
  ioRead: 'number',
  ioWrite: 'number',
  netRx: 'number',
  netTx: 'number',
  pressure: 'object',
};
/** The kinds a field takes: `lastOk`, `closestToLimit`, a silence's `until` and a container's figures are their kind or null; the rest one kind. */
function acceptedKinds(parent: any, key: string | number | undefined, current: unknown): string[] {
  if (key === 'lastOk') return ['number', 'null'];
  if (key === 'closestToLimit') return ['object', 'null'];
  if (key === 'container') return ['string', 'null']; // a process's container
  if (key === 'until') return ['number', 'null']; // a silence lifted
  const isContainer = parent !== null && typeof parent === 'object' && 'command' in parent && 'kind' in parent;
  const nullable = isContainer && typeof key === 'string' ? CONTAINER_NULLABLE[key] : undefined;
  return nullable ? [nullable, 'null'] : [kindOf(current)];
}
/** Keys that may be left out: a collector's `error`, a process sample's `loopBusy` (servers before it), and each gauge of an info's `thresholds`. */
const isOptional = (path: Path) => path.at(-1) === 'error' || path.at(-1) === 'loopBusy' || path.at(-2) === 'thresholds';

type Change = { path: Path; replacement: unknown; what: string } | { path: Path; remove: true; what: string };

/** Every way to make `value` wrong in one place: each value of another JSON kind, each required key taken out. */
function changesOf(value: unknown): Change[] {
  const changes: Change[] = [];
  for (const path of pathsOf(value)) {
    const at = path.join('.') || 'the payload';
    const current = path.reduce<any>((node, key) => node[key], value);
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], value);
    const accepted = acceptedKinds(parent, path.at(-1), current);
    for (const [kind, replacement] of Object.entries(OF_KIND)) {
      if (!accepted.includes(kind)) changes.push({ path, replacement, what: `${at} made ${kind}` });
    }
    if (typeof path.at(-1) === 'string' && !isOptional(path) && !Array.isArray(parent)) {
      changes.push({ path, remove: true, what: `${at} taken out` });
    }
  }
  return changes;
}

function applied(value: unknown, change: Change): unknown {
  if (change.path.length === 0) return 'replacement' in change ? change.replacement : undefined;
  const copy = structuredClone(value) as any;
  const parent = change.path.slice(0, -1).reduce<any>((node, key) => node[key], copy);
  const key = change.path.at(-1) as string | number;
  if ('remove' in change) delete parent[key];
  else parent[key] = structuredClone(change.replacement);
  return copy;
}

/**
 * A copy of `value` made wrong in one place, for sure: a value of another JSON kind (a string where a
 * number goes, null where a list goes, ...) or a required key taken out.
 */
export function broken(value: unknown): fc.Arbitrary<{ json: unknown; what: string }> {
  return fc.constantFrom(...changesOf(value)).map((change) => ({ json: applied(value, change), what: change.what }));
}

export interface FuzzEntry {
  /** The stream entry's fields, as XADD takes them after the id. */
  fields: string[];
  valid: boolean;
  what: string;
}

/** Stream entries: valid events, and invalid ones of every kind a hostile or broken Redis could hold. */
export const fuzzEntry: fc.Arbitrary<FuzzEntry> = fc.oneof(
  {
    weight: 3,
    arbitrary: validEvent.map(({ event, data }) => ({
      fields: [EVENT_FIELD, event, DATA_FIELD, JSON.stringify(data)],
      valid: true,
      what: event,
    })),
  },
  {
    weight: 3,
    arbitrary: validEvent.chain(({ event, data }) =>
      broken(data).map(({ json, what }) => ({
        fields: [EVENT_FIELD, event, DATA_FIELD, JSON.stringify(json)],
        valid: false,
        what: `${event}: ${what}`,
      })),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...EVENT_NAMES), fc.string({ maxLength: 20 })).map(([event, garbage]) => ({
      fields: [EVENT_FIELD, event, DATA_FIELD, `x${garbage}`],
      valid: false,
      what: `${event}: not JSON`,
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...EVENT_NAMES),
        // JSON that is no object: a list, a string, null, a number (1e400 parses to Infinity).
        fc.oneof(
          fc.constant('1e400'),
          fc
            .jsonValue()
            .filter((value) => kindOf(value) !== 'object')
            .map((value) => JSON.stringify(value)),
        ),
      )
      .map(([event, json]) => ({ fields: [EVENT_FIELD, event, DATA_FIELD, json], valid: false, what: `${event}: ${json.slice(0, 20)}` })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 12 }).filter((name) => !(EVENT_NAMES as string[]).includes(name)),
        validEvent,
      )
      .map(([name, { data }]) => ({ fields: [EVENT_FIELD, name, DATA_FIELD, JSON.stringify(data)], valid: false, what: `event ${name}` })),
  },
  {
    weight: 1,
    arbitrary: validEvent.chain(({ event, data }) =>
      fc.constantFrom<FuzzEntry>(
        { fields: [EVENT_FIELD, event], valid: false, what: 'no data field' },
        { fields: [DATA_FIELD, JSON.stringify(data)], valid: false, what: 'no event field' },
        { fields: [EVENT_FIELD, event, DATA_FIELD, ''], valid: false, what: 'empty data' },
      ),
    ),
  },
);

/** A valid agent info hash, as an agent writes it. */
export const agentInfo: fc.Arbitrary<AgentInfo> = fc.record({
  name: text,
  bootId: fc.bigInt({ min: 1n, max: 9_999_999_999_999_999n }).map(String),
  version: text,
  host: fc.record({
    hostname: text,
    os: text,
    platform: text,
    release: text,
    arch: text,
    cpuModel: text,
    cores: finite,
    memTotal: finite,
    uptime: finite,
  }),
  interval: fc.integer({ min: 1, max: 3_600_000 }),
  historyMs: fc.integer({ min: 1, max: 7 * 86_400_000 }),
  backfillMs: fc.integer({ min: 0, max: 86_400_000 }),
  heartbeatMs: fc.integer({ min: 1, max: 300_000 }),
  retryMs: fc.integer({ min: 0, max: 300_000 }),
  topics: fc.uniqueArray(fc.constantFrom(...TOPICS)),
  collectors: list(collectorHealth),
  thresholds: fc.record(
    Object.fromEntries(GAUGES.map((gauge) => [gauge, fc.record({ warning: finite, critical: finite })])) as Record<
      (typeof GAUGES)[number],
      fc.Arbitrary<Level>
    >,
    { requiredKeys: [] },
  ),
  alerts: list(alertPayload),
  capacity: fc.integer({ min: 1, max: 20_000 }),
});

/** A plain, valid agent info for host `name` (as the fleet tests write it to Redis), with `overrides` applied. */
export function agentInfoOf(name: string, bootId: string, overrides: Partial<AgentInfo> = {}): AgentInfo {
  return {
    name,
    bootId,
    version: '1.0.0',
    host: { hostname: name, os: 'Debian', platform: 'linux', release: '6', arch: 'x64', cpuModel: 'cpu', cores: 2, memTotal: 1, uptime: 1 },
    interval: 1000,
    historyMs: 3_600_000,
    backfillMs: 300_000,
    heartbeatMs: 15_000,
    retryMs: 2000,
    topics: ['cpu', 'memory'],
    thresholds: {},
    collectors: [{ topic: 'cpu', ok: true, source: 'procfs', cadenceMs: 1000, failures: 0, lastOk: 1 }],
    alerts: [],
    capacity: 10_000,
    ...overrides,
  };
}
