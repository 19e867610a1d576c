/**
 * The wire contract between the server and the page. The web app imports this file with
 * `import type` only, so nothing here may be a runtime dependency of the browser bundle
 * except the plain constants, which the web side duplicates through type-checked literals.
 */

/** Topics a client can subscribe to with `?topics=`; each is also the SSE event name of its samples. */
export const TOPICS = [
  'cpu',
  'memory',
  'network',
  'disk',
  'filesystem',
  'temperature',
  'process',
  'processes',
  'containers',
  'requests',
] as const;
export type Topic = (typeof TOPICS)[number];

/** CPU use in percent (0..100) over the last interval; load averages as the kernel reports them. */
export interface CpuSample {
  t: number;
  total: number;
  user: number;
  system: number;
  iowait: number;
  /** Total busy percent per logical core, in core order. */
  cores: number[];
  load: [number, number, number];
}

/** Bytes. `used` excludes cache and buffers (total - available). */
export interface MemorySample {
  t: number;
  total: number;
  used: number;
  available: number;
  cached: number;
  buffers: number;
  swapTotal: number;
  swapUsed: number;
}

export interface InterfaceRate {
  name: string;
  /** Bytes per second received / transmitted. */
  rx: number;
  tx: number;
}

/** Bytes per second; the total sums the interfaces that pass the interface filter. */
export interface NetworkSample {
  t: number;
  rx: number;
  tx: number;
  interfaces: InterfaceRate[];
}

/** Bytes per second read from and written to the physical block devices. */
export interface DiskSample {
  t: number;
  read: number;
  write: number;
}

export interface MountUsage {
  mount: string;
  fs: string;
  type: string;
  /** Bytes. */
  size: number;
  used: number;
}

export interface FilesystemSample {
  t: number;
  mounts: MountUsage[];
}

/** Degrees Celsius, only ever from real sensors: the topic is absent on hosts without any. */
export interface TemperatureSample {
  t: number;
  main: number;
  max: number;
  sensors: { name: string; celsius: number }[];
}

/** The pulseboard server process itself. */
export interface ProcessSample {
  t: number;
  /** CPU of this process over the last interval, percent of one core. */
  cpu: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Event-loop delay over the last interval, milliseconds. */
  lagP50: number;
  lagP99: number;
  /**
   * Share of the last interval the event loop spent running code rather than waiting, percent
   * (`performance.eventLoopUtilization()`). Absent from servers before it was added (a hub may relay one).
   */
  loopBusy?: number;
  /** Seconds since the process started. */
  uptime: number;
}

export interface ProcessInfo {
  pid: number;
  /** Its short command line (`node server.js`, `postgres: checkpointer`); a kernel thread's name in brackets. */
  name: string;
  /** The user it runs as (effective uid), by name where the passwd file knows it, else the number. */
  user: string;
  /** The container (cgroup) it runs in, named as the containers topic names it; null in the root cgroup. */
  container: string | null;
  /** Percent of one core over the last sample period (a busy 4-thread process can show 400). */
  cpu: number;
  /** Resident memory, bytes. */
  rss: number;
}

/** The host's busiest processes: the top ones by CPU and the top ones by memory (each listed once). */
export interface ProcessesSample {
  t: number;
  /** Processes on the host. */
  count: number;
  top: ProcessInfo[];
}

export type ContainerKind = 'docker' | 'podman' | 'kubernetes' | 'systemd' | 'cgroup';

/** Some-stall percentages over the last 10 s (PSI `avg10`), where the kernel keeps them for the cgroup. */
export interface ContainerPressure {
  cpu: number;
  memory: number;
  io: number;
}

/** A container: a cgroup that holds processes (a Docker, Podman or Kubernetes container, a systemd unit, any other). */
export interface ContainerInfo {
  /** The cgroup path, e.g. `/system.slice/docker-3f2a….scope`: unique while the container runs. */
  id: string;
  /** The Docker/Podman name when its API answered, else one read from the path (unit name, short id, last segment). */
  name: string;
  kind: ContainerKind;
  /** The image, from the Docker/Podman API; null without it. */
  image: string | null;
  /** Short command line of its first process, e.g. `node server.js`. */
  command: string;
  /** Percent of one core over the last period; null on its first sample or without the cpuacct controller. */
  cpu: number | null;
  /** Percent of its CPU quota; null without a quota. */
  cpuOfLimit: number | null;
  /** Bytes in use without the reclaimable page cache (usage less inactive_file); null without the memory controller. */
  memory: number | null;
  /** Bytes; null when unlimited. */
  memoryLimit: number | null;
  /** Block I/O, bytes per second; null without the io/blkio controller or on its first sample. */
  ioRead: number | null;
  ioWrite: number | null;
  /** Network bytes per second of its own network namespace; null when it shares the host's, or on its first sample. */
  netRx: number | null;
  netTx: number | null;
  /** Tasks (`pids.current`), or processes listed in `cgroup.procs` without the pids controller. */
  pids: number;
  /** null where the kernel keeps no pressure figures for the cgroup (cgroup v1, PSI off). */
  pressure: ContainerPressure | null;
}

/** The container using the largest share of its memory limit. */
export interface ContainerNearLimit {
  id: string;
  name: string;
  /** Memory in use, percent of its limit. */
  percent: number;
}

/** The busiest containers by CPU and the largest by memory (each listed once), every 5 s or the interval. */
export interface ContainersSample {
  t: number;
  /** Containers found. */
  count: number;
  top: ContainerInfo[];
  /** Among every container found, listed or not, the one closest to its memory limit; null when none has a limit. */
  closestToLimit: ContainerNearLimit | null;
}

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'aborted';

export interface LatencySummary {
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface RouteStats {
  /** `METHOD pattern`, e.g. `GET /users/:id`; unmatched paths share one bucket. */
  route: string;
  count: number;
  errors: number;
  latency: LatencySummary;
}

/** Who measured the traffic: the dashboard's own routes, the app it is embedded in, its reverse proxy, or web servers' access logs. */
export type TrafficSource = 'self' | 'embedded' | 'proxy' | 'access-log';

/** HTTP traffic measured by the request middleware, one per tick (zeros when idle). */
export interface RequestsSample {
  t: number;
  source: TrafficSource;
  /** Requests completed during this tick. */
  count: number;
  /** Requests per second over this tick. */
  rate: number;
  inFlight: number;
  status: Record<StatusClass, number>;
  /** This tick's latency; all zero when no request completed. */
  latency: LatencySummary;
  /** Response bytes sent during this tick, where known (Content-Length or counted body bytes). */
  bytes: number;
  /** The same measures over the sliding window that ends with this tick. */
  window: { ms: number; count: number; errors: number; latency: LatencySummary };
  /** Routes over the window: the top ones by count, plus the top ones by p99. */
  routes: RouteStats[];
  /** Source `access-log`: the files read (`--access-log`, as given). */
  logs?: string[];
  /** Source `access-log`: lines read this tick that are not an access log line in a known format. */
  unparsed?: number;
}

export interface SampleByTopic {
  cpu: CpuSample;
  memory: MemorySample;
  network: NetworkSample;
  disk: DiskSample;
  filesystem: FilesystemSample;
  temperature: TemperatureSample;
  process: ProcessSample;
  processes: ProcessesSample;
  containers: ContainersSample;
  requests: RequestsSample;
}
export type Sample = SampleByTopic[Topic];

/** Health of one collector, as last observed by the sampler. */
export interface CollectorHealth {
  topic: Topic;
  ok: boolean;
  /** Where the numbers come from, e.g. `procfs` or `systeminformation`. */
  source: string;
  cadenceMs: number;
  /** One line; never a stack trace. Present while failing. */
  error?: string;
  /** One line: something wrong with the collector's input that does not stop it (access-log lines it cannot read). */
  warning?: string;
  /** Consecutive failures. */
  failures: number;
  /** ms since epoch of the last good sample, or null if none yet. */
  lastOk: number | null;
}

export interface HostInfo {
  hostname: string;
  os: string;
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cores: number;
  memTotal: number;
  /** Host uptime in seconds at the moment the hello was built. */
  uptime: number;
}

/** Why the server sends a full picture instead of the missed events. */
export type HelloMode = 'fresh' | 'resume' | 'reset';

export interface HelloPayload {
  t: number;
  bootId: string;
  version: string;
  host: HostInfo;
  /** The sampling interval in ms: the expected gap between events of a 1-tick topic. */
  interval: number;
  /** How much history the server keeps, ms. */
  historyMs: number;
  /** The window the backfill covers, ms. */
  backfillMs: number;
  /** Milliseconds between heartbeat comments. */
  heartbeatMs: number;
  /** The reconnection delay the server asks for (also sent as the SSE `retry:` field). */
  retryMs: number;
  /** Topics this stream carries (the `?topics=` filter applied to what the host can sample). */
  topics: Topic[];
  /** fresh: first connect; resume: missed events follow; reset: discard what you hold, a backfill follows. */
  mode: HelloMode;
  collectors: CollectorHealth[];
  /** Warning / critical levels per gauge (cpu %, memory %, fullest filesystem %, lag p99 ms, error %, °C, container memory % of its limit). */
  thresholds: Thresholds;
  /** Durable history (absent on a fleet hub's boards). */
  history?: HistoryStatus;
  /** The alert channels and how each is doing, for the page's "send a test" buttons (absent on a fleet hub's boards). */
  alertChannels?: ChannelHealth[];
}

/**
 * Recent history in columnar form: for each topic, `t` holds the sample times and each other
 * key of the sample type holds the values of that key in the same order.
 */
export type Columns<S> = { [K in keyof S]: S[K][] };

export interface BackfillPayload {
  /** True when the client must drop what it holds (new boot, or its id fell out of history). */
  reset: boolean;
  /** Seq of the newest event included; the live stream continues after it. */
  lastSeq: number;
  series: { [T in Topic]?: Columns<SampleByTopic[T]> };
  /** Alerts firing now, so a page that just opened shows them. */
  alerts: AlertPayload[];
  /** Silences not yet over (a local monitor's). */
  silences?: SilencePayload[];
}

export interface HealthPayload {
  t: number;
  collectors: CollectorHealth[];
  /** Durable history, sent when writing it stops or starts again. */
  history?: HistoryStatus;
  /** Alert channels, sent when one starts or stops failing. */
  channels?: ChannelHealth[];
}

/** The tiers of durable history: every sample, 1-minute rows, 1-hour rows. */
export type HistoryTier = 'raw' | '1m' | '10m' | '1h';

/** The durable history's state (`/healthz`, `hello`, `health`). */
export interface HistoryStatus {
  /** True while samples reach the data directory. */
  writing: boolean;
  /** The data directory; null when history is kept in memory only (`--data-dir none`). */
  dir: string | null;
  /** Why history is not being written (one line), or null. */
  error: string | null;
  /** Bytes the data directory holds. */
  bytes: number;
  /** Time of the oldest row held, ms since epoch; null when empty. */
  oldest: number | null;
  /** How long each tier is kept, ms. */
  retention: Record<HistoryTier, number>;
}

export type AlertSeverity = 'warning' | 'critical';

/** The single numbers alert rules and thresholds are about, each derived from one topic's samples. */
export const GAUGES = ['cpu', 'memory', 'filesystem', 'lag', 'errors', 'temperature', 'containerMemory', 'network'] as const;
export type Gauge = (typeof GAUGES)[number];

/** Levels at which the page colours a gauge's number and bands its chart; same unit as the gauge. */
export interface Level {
  warning: number;
  critical: number;
}
export type Thresholds = { [G in Gauge]?: Level };

/** A change of an alert rule's state. `since` is when the current state began. */
export interface AlertPayload {
  t: number;
  rule: string;
  metric: Gauge;
  state: 'firing' | 'resolved';
  severity: AlertSeverity;
  value: number;
  threshold: number;
  /** ms since epoch when the current state began. */
  since: number;
  message: string;
}

/** A span of time a rule fired: from its firing to its resolution, or to a restart that lost its state. */
export interface AlertRange {
  rule: string;
  metric: Gauge;
  severity: AlertSeverity;
  /** ms since epoch. */
  from: number;
  /** null while it still fires. */
  to: number | null;
  /** How it ended: resolved, or the server stopped while it fired; null while it fires. */
  end: 'resolved' | 'restart' | null;
}

/** `GET /api/alerts?from=&to=`: the changes in the range and the firing spans that overlap it. */
export interface AlertHistoryResponse {
  from: number;
  to: number;
  changes: AlertPayload[];
  ranges: AlertRange[];
}

/** A rule's silence set (until `until`, ms since epoch) or lifted (`until` null): silenced alerts send nothing. */
export interface SilencePayload {
  t: number;
  rule: string;
  until: number | null;
}

/** How an alert channel is doing (`/healthz`, `health` events). Names the channel, never its secrets. */
export interface ChannelHealth {
  name: string;
  type: 'webhook' | 'ntfy' | 'slack' | 'discord' | 'telegram' | 'email';
  /** False after 3 failed tries in a row, until one succeeds. */
  ok: boolean;
  /** Messages waiting in its queue. */
  pending: number;
  /** Failed tries in a row. */
  failures: number;
  /** The newest failure, one line, while failing. */
  reason: string | null;
  /** When it started failing, ms since epoch. */
  since: number | null;
}

/** One host of a fleet, as the overview (`/api/fleet`) shows it. */
export interface FleetHost {
  /** The agent's `--name`; `?host=` takes it. */
  name: string;
  hostname: string;
  os: string;
  version: string;
  /** Sample time of the host's newest event, ms since epoch; null before the first. */
  lastSeen: number | null;
  /** Nothing new for three of its intervals (at least 5 s): the agent, its host or its link is down. */
  stale: boolean;
  /** Percent, from the newest cpu sample. */
  cpu: number | null;
  memory: { used: number; total: number } | null;
  failing: Topic[];
  alerts: AlertPayload[];
}

export interface FleetStatus {
  t: number;
  /** The hub's link to Redis; `since` is when the current state began. */
  redis: { ok: boolean; error: string | null; since: number };
  hosts: FleetHost[];
}

/** Every SSE event the server sends, discriminated by `event` (the SSE `event:` field). */
export type ServerEvent =
  | { [T in Topic]: { event: T; data: SampleByTopic[T] } }[Topic]
  | { event: 'hello'; data: HelloPayload }
  | { event: 'backfill'; data: BackfillPayload }
  | { event: 'health'; data: HealthPayload }
  | { event: 'alert'; data: AlertPayload }
  | { event: 'silence'; data: SilencePayload };

export type EventName = ServerEvent['event'];
/** Events kept in the log with an id; hello and backfill are made per connection. */
export type LoggedEventName = Exclude<EventName, 'hello' | 'backfill'>;
export type PayloadOf<E extends EventName> = Extract<ServerEvent, { event: E }>['data'];

/** `GET /api/snapshot`: the newest sample of every topic the host has. */
export interface SnapshotResponse {
  bootId: string;
  t: number;
  samples: { [T in Topic]?: SampleByTopic[T] };
  collectors: CollectorHealth[];
}

type SeriesByTopic = { [T in Topic]?: Columns<SampleByTopic[T]> };

/** `GET /api/history?topics=&since=` or `?topics=&from=&to=&points=`. */
export interface HistoryResponse {
  bootId: string;
  /** The start of the range (`since`, or `from`). */
  since: number;
  /** The range answered, ms since epoch. */
  from: number;
  to: number;
  /** Where the rows come from: every sample (`raw`) or downsampled rows (`1m`, `1h`). */
  tier: HistoryTier;
  /** ms between rows: the sampling interval for raw rows, or the bucket length (a whole multiple of the tier's). */
  step: number;
  /** Samples, or for downsampled rows each bucket's mean (counts and bytes summed; request latency percentiles of the bucket's merged histograms; `t` the bucket start). */
  series: SeriesByTopic;
  /** Downsampled rows only: each bucket's minimum and maximum of every number, in the same shape. */
  bands?: { min: SeriesByTopic; max: SeriesByTopic };
  /** Alerts firing now. */
  alerts: AlertPayload[];
}
