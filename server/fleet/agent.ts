import { Redis } from 'ioredis';
import { toStoredPrecision } from '../history/latency-buckets.js';
import type { LoggedEventName, PayloadOf } from '../protocol.js';
import type { LiveBoard, TickBuckets } from '../stream/board.js';
import { type AgentInfo, BUCKETS_FIELD, DATA_FIELD, EVENT_FIELD, eventsKey, HOSTS_KEY, infoKey, parseStreamId } from './keys.js';

export interface AgentOptions {
  redis: URL;
  name: string;
  /** Events kept while Redis is unreachable; past it the oldest are dropped (and counted). */
  backlog: number;
  log?: (line: string) => void;
}

/** An event to send; `buckets`: a `requests` tick's latency buckets as JSON, when it had requests. */
type Pending = { event: LoggedEventName; json: string; buckets?: string };

/** XADDs per round trip while flushing. */
const BATCH = 500;

/**
 * Fleet agent: appends every event of the host's monitor to the host's Redis Stream, trimmed to the
 * history length, with ids `<boot>-<seq>` that the hubs use as SSE ids. While Redis is unreachable the
 * events wait in a bounded local backlog and go out in order when it returns. Sampling never waits on Redis.
 */
export class FleetAgent {
  private readonly redis: Redis;
  private readonly backlog: Pending[] = [];
  private readonly key: string;
  private readonly log: (line: string) => void;
  /** Chosen on the first write, later than anything in the stream; null until then. */
  private boot: string | null = null;
  private seq = 0;
  private flushing = false;
  private infoDirty = true;
  private dropped = 0;
  private connected = false;
  private closed = false;

  constructor(
    private readonly monitor: LiveBoard,
    private readonly options: AgentOptions,
  ) {
    this.key = eventsKey(options.name);
    this.log = options.log ?? ((line) => process.stderr.write(`pulseboard agent: ${line}\n`));
    // No offline queue: while Redis is away commands fail at once and the events stay in our own bounded backlog.
    this.redis = new Redis(options.redis.href, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 1000,
      lazyConnect: true,
    });
    this.redis.on('ready', () => {
      if (!this.connected)
        this.log(`connected to ${options.redis.host}${this.backlog.length ? `; sending ${this.backlog.length} waiting events` : ''}`);
      this.connected = true;
      this.infoDirty = true;
      void this.flush();
    });
    // A connection can end with an error or just close (a restart, a killed client): either way, say so once.
    this.redis.on('error', (error: Error) => this.lost(error.message));
    this.redis.on('close', () => this.lost('connection closed'));
  }

  private lost(reason: string): void {
    if (this.connected && !this.closed) this.log(`lost Redis (${reason}); keeping up to ${this.options.backlog} events until it returns`);
    this.connected = false;
  }

  /** Events waiting for Redis. */
  get waiting(): number {
    return this.backlog.length;
  }

  start(): void {
    this.monitor.onEvent((event, data, buckets) => this.enqueue(event, data, buckets));
    this.redis.connect().catch(() => {
      // Retried by ioredis; the 'error' handler has said so.
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // A flush under way would make this one return at once: let it finish, then send what is left.
    while (this.flushing) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.flush();
    this.redis.disconnect();
  }

  private enqueue<E extends LoggedEventName>(event: E, data: PayloadOf<E>, buckets?: TickBuckets): void {
    if (event === 'health' || event === 'alert') this.infoDirty = true;
    const pending: Pending = { event, json: JSON.stringify(data) };
    // At the 2 significant digits the hub's history keeps (within 0.8 %): a third of the 3-digit buckets' size.
    if (buckets && buckets.v.length > 0) pending.buckets = JSON.stringify(toStoredPrecision(buckets));
    this.backlog.push(pending);
    if (this.backlog.length > this.options.backlog) {
      this.backlog.shift();
      if (this.dropped++ === 0) this.log(`backlog full (${this.options.backlog} events): dropping the oldest until Redis returns`);
    }
    if (this.connected && !this.flushing) void this.flush();
  }

  /** Sends the backlog in order, in batches; stops at the first failure and resumes on reconnect. */
  private async flush(): Promise<void> {
    if (this.flushing || !this.connected) return;
    this.flushing = true;
    try {
      if (this.boot === null) await this.chooseBoot();
      if (this.infoDirty) await this.writeInfo();
      while (this.backlog.length > 0 && this.connected) {
        const sent = await this.sendBatch(this.backlog.slice(0, BATCH));
        this.backlog.splice(0, sent);
        if (sent === 0) break;
      }
      if (this.dropped > 0 && this.backlog.length === 0) {
        this.log(`caught up; ${this.dropped} events were dropped while Redis was away`);
        this.dropped = 0;
      }
    } catch (error) {
      if (!this.closed) this.log(`cannot write to Redis (${(error as Error).message}); will retry`);
    } finally {
      this.flushing = false;
    }
    if (this.connected && (this.backlog.length > 0 || this.infoDirty) && !this.closed) setTimeout(() => void this.flush(), 1000).unref();
  }

  /** A boot later than any id in the stream: ids must grow, even across restarts and clock steps back. */
  private async chooseBoot(): Promise<void> {
    const last = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1);
    const lastId = last[0]?.[0];
    const lastBoot = lastId ? Number(lastId.split('-')[0]) : 0;
    this.boot = String(Math.max(Date.now(), lastBoot + 1));
    this.seq = 0;
    this.infoDirty = true;
  }

  /** Returns how many of the batch are now in the stream (from the front). */
  private async sendBatch(batch: Pending[]): Promise<number> {
    const pipeline = this.redis.pipeline();
    batch.forEach((item, i) => {
      const fields = [EVENT_FIELD, item.event, DATA_FIELD, item.json];
      if (item.buckets !== undefined) fields.push(BUCKETS_FIELD, item.buckets);
      pipeline.xadd(this.key, 'MAXLEN', '~', this.monitor.hub.capacity, `${this.boot}-${this.seq + i + 1}`, ...fields);
    });
    const results = (await pipeline.exec()) ?? [];
    let sent = 0;
    for (const [error] of results) {
      if (error) {
        if (/equal or smaller/.test(error.message)) return sent + (await this.reconcile(sent, batch.length));
        throw error;
      }
      sent++;
    }
    this.seq += sent;
    return sent;
  }

  /**
   * An XADD was refused because the stream already holds that id: either a write whose reply was lost
   * went through (then count it as sent), or another writer uses this name (then start a new boot).
   */
  private async reconcile(sent: number, batchLength: number): Promise<number> {
    this.seq += sent;
    const last = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1);
    const parsed = last[0] ? parseStreamId(last[0][0]) : null;
    if (parsed && parsed.boot === this.boot && parsed.seq > this.seq) {
      const landed = Math.min(parsed.seq - this.seq, batchLength - sent);
      this.seq += landed;
      return landed;
    }
    this.log(
      `the stream of "${this.options.name}" has newer ids than this agent wrote: is another agent using --name ${this.options.name}?`,
    );
    await this.chooseBoot();
    return 0;
  }

  private async writeInfo(): Promise<void> {
    // History and alert channels stay the agent host's own: a hub neither reads the one nor tests the other.
    const { t: _t, mode: _mode, history: _history, alertChannels: _channels, ...hello } = this.monitor.hello(this.monitor.topics, 'fresh');
    const info: AgentInfo = {
      ...hello,
      bootId: this.boot ?? '',
      name: this.options.name,
      alerts: this.monitor.activeAlerts(),
      capacity: this.monitor.hub.capacity,
    };
    this.infoDirty = false;
    try {
      const results = await this.redis
        .multi()
        .sadd(HOSTS_KEY, this.options.name)
        .hset(infoKey(this.options.name), 'info', JSON.stringify(info))
        .exec();
      // EXEC succeeds when a command inside it fails: that failure is in the command's own reply.
      const failed = results?.find(([error]) => error)?.[0];
      if (failed) throw failed;
      if (!results) throw new Error('the info write was aborted');
    } catch (error) {
      this.infoDirty = true;
      throw error;
    }
  }
}
