import { queryRange } from '../history/query.js';
import type { HistoryStore } from '../history/store.js';
import type { AlertPayload, CollectorHealth, HelloMode, HelloPayload, Topic } from '../protocol.js';
import type { Board, BoardHistory } from '../stream/board.js';
import { Hub, isTopicEvent } from '../stream/hub.js';
import { StreamService } from '../stream/service.js';
import { type AgentInfo, parseStreamId, type StreamEntry } from './keys.js';
import { type LoggedEvent, type ParsedEntry, parseEntry } from './payloads.js';

/** Room for the entries MAXLEN's `~` leaves beyond the agent's capacity. */
const TRIM_SLACK = 1.1;

/**
 * One fleet host on a hub: its Redis Stream replayed into an in-memory log whose ids are the stream ids,
 * so a client can resume on any hub. A new agent boot, or a gap in the ids (entries trimmed or lost while
 * this hub was away), starts a new log: open streams end and their clients reconnect with a reset.
 */
export class HostMirror implements Board {
  hub: Hub;
  streams: StreamService;
  /** Id of the newest entry read: where reading the stream goes on. */
  lastId = '0-0';
  /** Sample time of the newest event. */
  lastSeen: number | null = null;
  private collectors = new Map<Topic, CollectorHealth>();
  private alerts = new Map<string, AlertPayload>();
  /** Entries left out because they do not fit the protocol, and the newest one's id and reason. */
  skipped = 0;
  lastSkipped: string | null = null;
  /** The host's tiers on the hub, when the hub keeps them (`--data-dir`): `/api/history` ranges answer from them. */
  readonly history?: BoardHistory;

  /** `store`: the host's durable history on the hub; every sample mirrored goes to it. */
  constructor(
    readonly name: string,
    private info: AgentInfo,
    private readonly log: (line: string) => void,
    private readonly store: HistoryStore | null = null,
  ) {
    if (store) {
      this.history = {
        range: (query, now) => queryRange(store, query, this.interval, now),
        // Samples from before the log's oldest, up to the agent's --history back: after a hub restart, before Redis's oldest.
        older: (topic, since, before) =>
          store.raw(topic, Math.max(since, Date.now() - this.info.historyMs), before - 1).map((row) => row.sample),
      };
    }
    this.hub = this.newHub(info.bootId || String(Date.now()), 1);
    this.streams = this.newStreams();
    this.takeStateFrom(info);
  }

  get version(): string {
    return this.info.version;
  }

  get topics(): Topic[] {
    return this.info.topics;
  }

  get host(): AgentInfo['host'] {
    return this.info.host;
  }

  get interval(): number {
    return this.info.interval;
  }

  health(): CollectorHealth[] {
    return [...this.collectors.values()];
  }

  activeAlerts(): AlertPayload[] {
    return [...this.alerts.values()];
  }

  hello(topics: Topic[], mode: HelloMode): HelloPayload {
    const { name: _name, alerts: _alerts, capacity: _capacity, ...hello } = this.info;
    const collectors = this.health().filter((health) => topics.includes(health.topic));
    const history = this.store ? { history: this.store.status() } : {};
    return { ...hello, t: Date.now(), bootId: this.hub.bootId, topics, mode, collectors, ...history };
  }

  /**
   * The hub's store for this host stopped writing, or writes again. The log's ids are the agent's, so the
   * hub cannot add a health event of its own to it: the streams end instead, and each client's resume
   * (exactly the events it missed) begins with a hello that carries the store's new state.
   */
  historyChanged(): void {
    this.streams.endAll();
  }

  /** The agent rewrote its info (a restart, a health or alert change): take what does not come as events. */
  updateInfo(info: AgentInfo): void {
    const newBoot = info.bootId !== this.info.bootId;
    this.info = info;
    if (newBoot && this.hub.length === 0) this.takeStateFrom(info);
  }

  /**
   * Appends stream entries, oldest first. An entry that does not fit the protocol is skipped and counted;
   * the entries after it start a new log, as after any gap.
   */
  ingest(entries: StreamEntry[]): void {
    for (const [id, fields] of entries) {
      this.lastId = id;
      const position = parseStreamId(id);
      if (!position) {
        this.skip(id, 'its id is not <boot>-<seq>');
        continue;
      }
      const entry = parseEntry(fields);
      if (!entry.ok) {
        this.skip(id, entry.error);
        continue;
      }
      if (position.boot === this.hub.bootId && position.seq <= this.hub.lastSeq) continue;
      if (position.boot !== this.hub.bootId || position.seq !== this.hub.lastSeq + 1) this.restart(position.boot, position.seq);
      this.hub.publish(entry.value.event, entry.value.data as never);
      this.track(entry.value);
      this.keep(entry.value);
    }
  }

  /**
   * A sample goes to the host's store unless the store has it already: a restarted hub replays the stream
   * that its journal holds in part, and a sample is kept once.
   */
  private keep(entry: ParsedEntry): void {
    const topic = entry.event;
    if (!this.store || !isTopicEvent(topic)) return;
    const sample = entry.data as { t: number };
    if (sample.t <= this.store.newestTime(topic)) return;
    this.store.record(topic, sample, entry.buckets);
  }

  private skip(id: string, reason: string): void {
    this.skipped++;
    this.lastSkipped = `${id} (${reason})`;
    // One line, not one per entry: a stream full of bad entries must not fill the log. /healthz keeps the count.
    if (this.skipped === 1) this.log(`host ${this.name}: skipping stream entry ${this.lastSkipped}; /healthz counts the others`);
  }

  private track(entry: LoggedEvent): void {
    this.lastSeen = Math.max(this.lastSeen ?? 0, entry.data.t);
    if (entry.event === 'health') {
      for (const health of entry.data.collectors) this.collectors.set(health.topic, health);
    } else if (entry.event === 'alert') {
      if (entry.data.state === 'firing') this.alerts.set(entry.data.rule, entry.data);
      else this.alerts.delete(entry.data.rule);
    }
  }

  private restart(boot: string, firstSeq: number): void {
    const wasEmpty = this.hub.length === 0;
    this.streams.endAll();
    const newBoot = boot !== this.hub.bootId;
    this.hub = this.newHub(boot, firstSeq);
    this.streams = this.newStreams();
    if (newBoot && !wasEmpty) {
      // A restarted agent: what it reported before is over; its info and events tell the new state.
      this.alerts.clear();
      this.takeStateFrom(this.info);
    }
  }

  private takeStateFrom(info: AgentInfo): void {
    this.collectors = new Map(info.collectors.map((health) => [health.topic, health]));
    this.alerts = new Map(info.alerts.map((alert) => [alert.rule, alert]));
  }

  private newHub(bootId: string, firstSeq: number): Hub {
    const capacity = Math.max(100, Math.ceil(this.info.capacity * TRIM_SLACK));
    return new Hub({ capacity, maxAgeMs: this.info.historyMs, bootId, firstSeq });
  }

  private newStreams(): StreamService {
    return new StreamService({
      hub: this.hub,
      retryMs: this.info.retryMs,
      backfillMs: this.info.backfillMs,
      hello: (topics, mode) => this.hello(topics, mode),
      activeAlerts: () => this.activeAlerts(),
      olderRows: this.history?.older,
    });
  }
}
