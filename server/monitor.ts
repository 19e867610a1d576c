import { uptime } from 'node:os';
import { AlertEngine } from './alerts/engine.js';
import type { NoticeKind } from './alerts/notice.js';
import { AlertNotifier } from './alerts/notifier.js';
import type { Collector } from './collect/collector.js';
import { readHostInfo } from './collect/host.js';
import { createCollectors, DEFAULT_EXCLUDE_FS_TYPES, DEFAULT_EXCLUDE_INTERFACES } from './collect/index.js';
import { Sampler } from './collect/sampler.js';
import type { Config } from './config.js';
import { AlertLog } from './history/alert-log.js';
import { sampleJson } from './history/persisted.js';
import { queryRange } from './history/query.js';
import { HistoryStore } from './history/store.js';
import { TickLatency } from './history/tick-latency.js';
import { processMemorySettle } from './lib/memory-settle.js';
import { readVersion } from './lib/paths.js';
import type {
  AlertPayload,
  CollectorHealth,
  HelloMode,
  HelloPayload,
  HistoryStatus,
  HostInfo,
  LoggedEventName,
  PayloadOf,
  Sample,
  Topic,
} from './protocol.js';
import type { RequestStats } from './requests/stats.js';
import type { AlertControl, Board, BoardHistory, Boards, EventListener, LiveBoard, TickBuckets } from './stream/board.js';
import { Hub, isTopicEvent } from './stream/hub.js';
import { StreamLimits } from './stream/limits.js';
import { StreamService } from './stream/service.js';
import { HEARTBEAT } from './stream/sse.js';
import { TopicWatchers } from './stream/watchers.js';

export interface MonitorOptions {
  config: Config;
  /** Replaces the host collectors (tests inject failing ones; embedders may add their own). */
  collectors?: Collector[];
  /** Collectors added to the host ones. */
  extraCollectors?: Collector[];
  host?: HostInfo;
  /** HTTP traffic to publish as the `requests` topic. */
  requestStats?: RequestStats;
  /** The collector that samples `requestStats`, when it is not the statistics' own (access logs read at each tick). */
  requestsCollector?: Collector<'requests'>;
  /** The version `hello` reports (pages reload when it changes); defaults to pulseboard's own. */
  version?: string;
  /**
   * Sample every topic at its own cadence even with no stream open (a fleet agent: its pages are on the
   * hub). By default a collector with an idle cadence (processes) uses it while no stream wants its topic.
   */
  sampleUnwatched?: boolean;
}

/** Slots in the log for events that are not samples (health changes, alerts). */
const NON_SAMPLE_SLOTS = 1024;

/**
 * The running core: collectors on their cadences feed the hub, and the hub feeds the streams.
 * One per process; the HTTP layer (app.ts) only reads from it.
 */
export class Monitor implements Board, LiveBoard {
  readonly hub: Hub;
  readonly sampler: Sampler;
  readonly streams: StreamService;
  readonly streamLimits: StreamLimits;
  readonly alerts: AlertEngine;
  /** Alert messages to people: the channels of the rules file and `--alert-webhook`. */
  readonly notifier: AlertNotifier;
  readonly version: string;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly listeners: EventListener[] = [];
  /** Durable history: every sample published goes to it. */
  readonly historyStore: HistoryStore;
  readonly history: BoardHistory;
  readonly alerting: AlertControl;
  /** Every alert change and silence, kept in the data directory. */
  readonly alertLog: AlertLog;
  private pruneAlerts: NodeJS.Timeout | undefined;
  private readonly tickLatency: TickLatency | null;
  private readonly watchers = new TopicWatchers();

  private constructor(
    readonly config: Config,
    readonly host: HostInfo,
    collectors: Collector[],
    readonly requestStats: RequestStats | null,
    version: string,
    private readonly sampleUnwatched: boolean,
  ) {
    this.version = version;
    const capacity = collectors.reduce((sum, c) => sum + Math.ceil(config.historyMs / c.cadenceMs) + 1, NON_SAMPLE_SLOTS);
    this.hub = new Hub({ capacity, maxAgeMs: config.historyMs });
    this.historyStore = HistoryStore.open({
      dir: config.dataDir,
      retention: config.retention,
      memoryMs: config.historyMs,
      onStatusChange: () => this.publish('health', { t: Date.now(), collectors: this.sampler.health(), history: this.historyStatus() }),
      afterBulkWork: (release) => processMemorySettle().afterBulkWork(release),
    });
    this.tickLatency = requestStats ? new TickLatency(requestStats) : null;
    this.history = {
      range: (query, now) => queryRange(this.historyStore, query, config.intervalMs, now),
      // Samples from before the log's oldest, up to --history back: after a restart the log is empty.
      older: (topic, since, before) =>
        this.historyStore.raw(topic, Math.max(since, Date.now() - config.historyMs), before - 1).map((row) => row.sample),
    };
    this.alertLog = new AlertLog({
      dir: this.historyStore.writing ? this.historyStore.dir : null,
      retentionMs: this.historyStore.retention['1m'],
    });
    this.notifier = new AlertNotifier({
      settings: config.alerts,
      webhook: config.alertWebhook,
      publicUrl: config.publicUrl ?? null,
      host: host.hostname,
      onHealthChange: (channels) => this.publish('health', { t: Date.now(), collectors: this.sampler.health(), channels }),
    });
    this.alerts = new AlertEngine(
      config.alerts.rules,
      (change) => {
        this.publish('alert', change);
        this.alertLog.append({ event: 'alert', data: change });
        void this.notifyWithCurrentTop(change, change.state);
      },
      (reminder) => void this.notifyWithCurrentTop(reminder, 'repeat'),
    );
    const ruleNames = new Set(config.alerts.rules.map((rule) => rule.name));
    // Silences outlive a restart: they are in the alert history.
    const now = Date.now();
    for (const silence of this.alertLog.silences(now)) {
      if (ruleNames.has(silence.rule)) this.notifier.silences.set(silence.rule, silence.until, now);
    }
    this.alerting = {
      hasRule: (rule) => ruleNames.has(rule),
      silence: (rule, until) => {
        const silence = this.notifier.silences.set(rule, until, Date.now());
        this.publish('silence', silence);
        this.alertLog.append({ event: 'silence', data: silence });
        return silence;
      },
      history: (from, to) => this.alertLog.query(from, to),
      channelNames: () => this.notifier.channels.names,
      testChannel: (name) => this.notifier.test(name),
    };
    this.sampler = new Sampler(collectors, {
      timeoutMs: config.collectorTimeoutMs,
      publish: (topic: Topic, sample: Sample) => {
        this.publish(topic, sample as never);
        this.notifier.observe(topic, sample);
        this.alerts.observe(topic, sample);
      },
      onHealthChange: (collectors) => this.publish('health', { t: Date.now(), collectors }),
    });
    this.streamLimits = new StreamLimits(config.maxStreams, config.maxStreamsPerClient);
    this.streams = new StreamService({
      hub: this.hub,
      retryMs: config.retryMs,
      backfillMs: config.backfillMs,
      hello: (topics, mode) => this.hello(topics, mode),
      activeAlerts: () => this.alerts.active(),
      activeSilences: () => this.notifier.silences.active(Date.now()),
      olderRows: this.history.older,
      watchers: this.watchers,
    });
    this.watchers.onChange((topic, watched) => this.sampler.setWatched(topic, watched || this.sampleUnwatched));
  }

  get interval(): number {
    return this.config.intervalMs;
  }

  static async create(options: MonitorOptions): Promise<Monitor> {
    const { config } = options;
    const hostCollectors =
      options.collectors ??
      (await createCollectors({
        intervalMs: config.intervalMs,
        filesystemIntervalMs: config.filesystemIntervalMs,
        excludeInterfaces: config.excludeInterfaces ?? DEFAULT_EXCLUDE_INTERFACES,
        excludeFsTypes: config.excludeFsTypes ?? DEFAULT_EXCLUDE_FS_TYPES,
        maxItems: config.maxItems,
        portable: config.portable,
        dockerSocket: config.dockerSocket,
        procfs: config.procfs,
        sysfs: config.sysfs,
      }));
    const host = options.host ?? (await readHostInfo());
    const requestCollectors = options.requestsCollector
      ? [options.requestsCollector]
      : options.requestStats
        ? [options.requestStats.collector(config.intervalMs)]
        : [];
    return new Monitor(
      config,
      host,
      [...hostCollectors, ...requestCollectors, ...(options.extraCollectors ?? [])],
      options.requestStats ?? null,
      options.version ?? readVersion(),
      options.sampleUnwatched ?? false,
    );
  }

  /** Topics this host can sample, in protocol order. */
  get topics(): Topic[] {
    return this.sampler.topics;
  }

  get name(): string {
    return this.host.hostname;
  }

  health(): CollectorHealth[] {
    return this.sampler.health();
  }

  activeAlerts(): AlertPayload[] {
    return this.alerts.active();
  }

  /**
   * A firing message (or a reminder) quotes the top processes "then": while no page shows them they are
   * walked once a minute, so one walk is made first rather than quote a list up to a minute old.
   */
  private async notifyWithCurrentTop(change: AlertPayload, kind: NoticeKind): Promise<void> {
    const quoted = this.notifier.quotedTopic(change);
    if (kind !== 'resolved' && this.sampler.isIdle(quoted)) await this.sampler.sampleNow(quoted);
    this.notifier.notify(change, kind);
  }

  /** The durable history's state; its disk use counts the alert history beside the tiers. */
  historyStatus(): HistoryStatus {
    const status = this.historyStore.status();
    return { ...status, bytes: status.bytes + this.alertLog.bytes };
  }

  /** Events this monitor logs, in order; listeners are called after the event is in the log. */
  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** The monitor as the only board of a standalone server. */
  asBoards(): Boards {
    return {
      board: (host) =>
        host === undefined
          ? { ok: true, board: this }
          : { ok: false, status: 404, error: 'this server shows one host; `host` needs a fleet hub (--redis)' },
      all: () => [this],
      streamLimits: this.streamLimits,
      maxClientBufferBytes: this.config.maxClientBufferBytes,
      status: () => {
        const collectors = this.sampler.health();
        return {
          status: 'ok',
          version: this.version,
          bootId: this.hub.bootId,
          uptime: Math.round(process.uptime()),
          streams: this.streams.count,
          collectors: { ok: collectors.filter((h) => h.ok).length, failing: collectors.filter((h) => !h.ok).map((h) => h.topic) },
          history: this.historyStatus(),
          alerts: { channels: this.notifier.health() },
        };
      },
    };
  }

  private publish<E extends LoggedEventName>(event: E, data: PayloadOf<E>): void {
    let buckets: TickBuckets | undefined;
    if (isTopicEvent(event)) {
      // One JSON.stringify per sample, for the wire and the journal alike.
      const sample = data as PayloadOf<Topic>;
      const json = sampleJson(event, sample);
      this.hub.publish(event, data, json.wire);
      buckets = event === 'requests' ? this.tickLatency?.take(sample.t) : undefined;
      this.historyStore.record(event, sample, buckets, json.persisted);
    } else {
      this.hub.publish(event, data);
    }
    for (const listener of this.listeners) listener(event, data, buckets);
  }

  start(): void {
    this.historyStore.start();
    for (const topic of this.sampler.topics) this.sampler.setWatched(topic, this.sampleUnwatched || this.watchers.isWatched(topic));
    this.sampler.start();
    this.heartbeat = setInterval(() => this.hub.broadcast(HEARTBEAT), this.config.heartbeatMs);
    this.pruneAlerts = setInterval(() => this.alertLog.prune(), 3_600_000);
    this.pruneAlerts.unref();
  }

  /** Stops sampling and ends every stream. */
  close(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.pruneAlerts);
    this.sampler.stop();
    this.notifier.close();
    this.streams.endAll();
    this.historyStore.close();
  }

  hello(topics: Topic[], mode: HelloMode): HelloPayload {
    const { config } = this;
    return {
      t: Date.now(),
      bootId: this.hub.bootId,
      version: this.version,
      host: { ...this.host, uptime: Math.round(uptime()) },
      interval: config.intervalMs,
      historyMs: config.historyMs,
      backfillMs: config.backfillMs,
      heartbeatMs: config.heartbeatMs,
      retryMs: config.retryMs,
      topics,
      mode,
      collectors: this.sampler.health().filter((health) => topics.includes(health.topic)),
      thresholds: config.alerts.thresholds,
      history: this.historyStatus(),
      alertChannels: this.notifier.health(),
    };
  }
}
