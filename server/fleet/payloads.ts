import type { LatencyBuckets } from '../history/latency-buckets.js';
import {
  type AlertPayload,
  type AlertSeverity,
  type CollectorHealth,
  type ContainerKind,
  GAUGES,
  type Gauge,
  type LatencySummary,
  type Level,
  type LoggedEventName,
  type PayloadOf,
  type StatusClass,
  TOPICS,
  type TrafficSource,
} from '../protocol.js';
import { type AgentInfo, BUCKETS_FIELD, DATA_FIELD, EVENT_FIELD, entryEvent } from './keys.js';
import { array, boolean, check, nullable, number, object, oneOf, type Schema, SchemaError, string, tuple } from './schema.js';

/**
 * What a hub accepts from Redis: one schema per event type of the protocol, and one for an agent's info
 * hash. Each is typed against the protocol's payload type, so a payload type that gains or changes a field
 * does not compile until its schema follows. The tests generate payloads from the same protocol types.
 */

const finite = number();
const text = string();
const WEEK_MS = 7 * 86_400_000;

/** Every member of a string union, as a record: adding a member to the protocol fails to compile here until it is listed. */
const membersOf = <T extends string>(members: Record<T, true>) => Object.keys(members) as T[];

const STATUS_CLASSES = membersOf<StatusClass>({ '1xx': true, '2xx': true, '3xx': true, '4xx': true, '5xx': true, aborted: true });
const SOURCES = membersOf<TrafficSource>({ self: true, embedded: true, proxy: true, 'access-log': true });
const SEVERITIES = membersOf<AlertSeverity>({ warning: true, critical: true });
const CONTAINER_KINDS = membersOf<ContainerKind>({ docker: true, podman: true, kubernetes: true, systemd: true, cgroup: true });
const ALERT_STATES = membersOf<AlertPayload['state']>({ firing: true, resolved: true });

const latency: Schema<LatencySummary> = object({ p50: finite, p90: finite, p99: finite, max: finite });

export const collectorHealth: Schema<CollectorHealth> = object(
  { topic: oneOf(TOPICS), ok: boolean(), source: text, cadenceMs: finite, failures: finite, lastOk: nullable(finite) },
  { error: text, warning: text },
);

export const alertPayload: Schema<AlertPayload> = object({
  t: finite,
  rule: text,
  metric: oneOf(GAUGES),
  state: oneOf(ALERT_STATES),
  severity: oneOf(SEVERITIES),
  value: finite,
  threshold: finite,
  since: finite,
  message: text,
});

/** The payload of every event an agent writes to its stream. */
export const PAYLOAD_SCHEMAS: { [E in LoggedEventName]: Schema<PayloadOf<E>> } = {
  cpu: object({
    t: finite,
    total: finite,
    user: finite,
    system: finite,
    iowait: finite,
    cores: array(finite),
    load: tuple([finite, finite, finite]),
  }),
  memory: object({
    t: finite,
    total: finite,
    used: finite,
    available: finite,
    cached: finite,
    buffers: finite,
    swapTotal: finite,
    swapUsed: finite,
  }),
  network: object({ t: finite, rx: finite, tx: finite, interfaces: array(object({ name: text, rx: finite, tx: finite })) }),
  disk: object({ t: finite, read: finite, write: finite }),
  filesystem: object({ t: finite, mounts: array(object({ mount: text, fs: text, type: text, size: finite, used: finite })) }),
  temperature: object({ t: finite, main: finite, max: finite, sensors: array(object({ name: text, celsius: finite })) }),
  process: object(
    {
      t: finite,
      cpu: finite,
      rss: finite,
      heapUsed: finite,
      heapTotal: finite,
      lagP50: finite,
      lagP99: finite,
      uptime: finite,
    },
    { loopBusy: finite },
  ),
  processes: object({
    t: finite,
    count: finite,
    top: array(object({ pid: finite, name: text, user: text, container: nullable(text), cpu: finite, rss: finite })),
  }),
  containers: object({
    t: finite,
    count: finite,
    top: array(
      object({
        id: text,
        name: text,
        kind: oneOf(CONTAINER_KINDS),
        image: nullable(text),
        command: text,
        cpu: nullable(finite),
        cpuOfLimit: nullable(finite),
        memory: nullable(finite),
        memoryLimit: nullable(finite),
        ioRead: nullable(finite),
        ioWrite: nullable(finite),
        netRx: nullable(finite),
        netTx: nullable(finite),
        pids: finite,
        pressure: nullable(object({ cpu: finite, memory: finite, io: finite })),
      }),
    ),
    closestToLimit: nullable(object({ id: text, name: text, percent: finite })),
  }),
  requests: object(
    {
      t: finite,
      source: oneOf(SOURCES),
      count: finite,
      rate: finite,
      inFlight: finite,
      status: object(Object.fromEntries(STATUS_CLASSES.map((status) => [status, finite])) as Record<StatusClass, Schema<number>>),
      latency,
      bytes: finite,
      window: object({ ms: finite, count: finite, errors: finite, latency }),
      routes: array(object({ route: text, count: finite, errors: finite, latency })),
    },
    { logs: array(text), unparsed: finite },
  ),
  health: object({ t: finite, collectors: array(collectorHealth) }),
  alert: alertPayload,
  silence: object({ t: finite, rule: text, until: nullable(finite) }),
};

const level: Schema<Level> = object({ warning: finite, critical: finite });
const duration = (min: number) => number({ min, max: WEEK_MS, integer: true });

/** An agent's info hash: its hello, its alerts and its stream's length. Everything a hub serves a host from. */
export const agentInfo: Schema<AgentInfo> = object({
  name: text,
  // The boot of the agent's stream ids (ms since epoch, as digits), or empty before its first write.
  bootId: string({ pattern: /^(\d{1,16})?$/, describe: 'up to 16 digits' }),
  version: text,
  host: object({
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
  interval: duration(1),
  historyMs: duration(1),
  backfillMs: duration(0),
  heartbeatMs: duration(1),
  retryMs: duration(0),
  topics: array(oneOf(TOPICS)),
  collectors: array(collectorHealth),
  thresholds: object({}, Object.fromEntries(GAUGES.map((gauge) => [gauge, level])) as Record<Gauge, Schema<Level>>),
  alerts: array(alertPayload),
  capacity: number({ min: 1, max: 50_000_000, integer: true }),
});

/** Longest JSON text of one entry or info hash read; the busiest host's largest sample is a few KiB. */
export const MAX_JSON_LENGTH = 1024 * 1024;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export type LoggedEvent = { [E in LoggedEventName]: { event: E; data: PayloadOf<E> } }[LoggedEventName];

/** A stream entry read: its event and, for a `requests` tick of an agent that sends them, the tick's latency buckets. */
export type ParsedEntry = LoggedEvent & { buckets?: LatencyBuckets };

/** The most a bucket's value or count can be: the store keeps them as 32-bit unsigned integers. */
const MAX_UINT32 = 2 ** 32 - 1;
const bucketNumber = number({ min: 0, max: MAX_UINT32, integer: true });

/**
 * A tick's latency buckets: values (µs) strictly ascending, counts of at least 1, as many of each, at
 * most 4 096 (a tick's histogram at 2 significant digits from 1 µs to an hour has about 3 000).
 */
const latencyBuckets: Schema<LatencyBuckets> = (value, path) => {
  const buckets = object({ v: array(bucketNumber), c: array(bucketNumber) })(value, path);
  const at = (key: string) => (path ? `${path}.${key}` : key);
  if (buckets.v.length !== buckets.c.length) throw new SchemaError(`${at('c')}: expected as many counts as values`);
  buckets.v.forEach((v, i) => {
    if (i > 0 && v <= (buckets.v[i - 1] as number)) throw new SchemaError(`${at('v')}[${i}]: expected values in ascending order`);
    if ((buckets.c[i] as number) < 1) throw new SchemaError(`${at('c')}[${i}]: expected a count of at least 1`);
  });
  return buckets;
};
function parseJson(json: string): Parsed<unknown> {
  if (json.length > MAX_JSON_LENGTH) return { ok: false, error: `${json.length} characters of JSON, over ${MAX_JSON_LENGTH}` };
  try {
    return { ok: true, value: JSON.parse(json) };
  } catch {
    return { ok: false, error: 'not JSON' };
  }
}

/**
 * A stream entry's fields as one event of the protocol (with a `requests` tick's latency buckets when the
 * agent sent them), or why they are not one.
 */
export function parseEntry(fields: string[]): Parsed<ParsedEntry> {
  const item = entryEvent(fields);
  if (!item) return { ok: false, error: `no "${EVENT_FIELD}" and "${DATA_FIELD}" fields` };
  const { event } = item;
  if (!Object.hasOwn(PAYLOAD_SCHEMAS, event)) return { ok: false, error: `unknown event ${JSON.stringify(event.slice(0, 40))}` };
  const json = parseJson(item.json);
  if (!json.ok) return { ok: false, error: `${event}: ${json.error}` };
  const schema: Schema<PayloadOf<LoggedEventName>> = PAYLOAD_SCHEMAS[event as LoggedEventName];
  const data = check(schema, json.value);
  if (!data.ok) return { ok: false, error: `${event} ${data.error}` };
  const parsed = { event, data: data.value } as LoggedEvent;
  if (item.buckets === undefined) return { ok: true, value: parsed };
  if (event !== 'requests') return { ok: false, error: `${event}: latency buckets ("${BUCKETS_FIELD}") belong to requests entries only` };
  const bucketsJson = parseJson(item.buckets);
  if (!bucketsJson.ok) return { ok: false, error: `requests buckets: ${bucketsJson.error}` };
  const buckets = check(latencyBuckets, bucketsJson.value);
  if (!buckets.ok) return { ok: false, error: `requests buckets ${buckets.error}` };
  return { ok: true, value: { ...parsed, buckets: buckets.value } };
}

/** An info hash's `info` field as an agent's info, or why it is not one. */
export function parseAgentInfo(raw: string): Parsed<AgentInfo> {
  const json = parseJson(raw);
  return json.ok ? check(agentInfo, json.value) : json;
}
