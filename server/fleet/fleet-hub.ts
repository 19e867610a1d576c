import { Redis } from 'ioredis';
import type { FleetHost, FleetStatus } from '../protocol.js';
import type { BoardLookup, Boards } from '../stream/board.js';
import { StreamLimits } from '../stream/limits.js';
import { HEARTBEAT } from '../stream/sse.js';
import { type AgentInfo, eventsKey, HOST_NAME, HOSTS_KEY, infoKey, type StreamEntry } from './keys.js';
import { HostMirror } from './mirror.js';

/** How often the hub looks for new hosts and re-reads their info. */
const DISCOVER_MS = 2000;
/** Longest a blocking read waits, so new hosts join the read within this. */
const READ_BLOCK_MS = 2000;
const READ_COUNT = 1000;
const LOAD_CHUNK = 5000;
/** A host is stale after this many of its intervals without an event (and at least STALE_MIN_MS). */
const STALE_INTERVALS = 3;
const STALE_MIN_MS = 5000;

/** What the hub needs of the configuration (the CLI's Config satisfies it). */
export interface FleetHubOptions {
  redis: URL | null;
  maxStreams: number;
  maxStreamsPerClient: number;
  maxClientBufferBytes: number;
  heartbeatMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hub mode: serves the boards of every host found in Redis. One connection blocks on XREAD over all
 * host streams; another discovers hosts and loads their history. Nothing is kept that Redis does not
 * hold, so a restarted hub (or another replica) serves the same history and the same ids.
 */
export class FleetHub implements Boards {
  readonly streamLimits: StreamLimits;
  readonly maxClientBufferBytes: number;
  private readonly mirrors = new Map<string, HostMirror>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly command: Redis;
  private readonly reader: Redis;
  private redis: FleetStatus['redis'] = { ok: false, error: 'connecting', since: Date.now() };
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly log: (line: string) => void;

  constructor(
    private readonly config: FleetHubOptions,
    readonly version: string,
    log?: (line: string) => void,
  ) {
    this.log = log ?? ((line) => process.stderr.write(`pulseboard: ${line}\n`));
    this.streamLimits = new StreamLimits(config.maxStreams, config.maxStreamsPerClient);
    this.maxClientBufferBytes = config.maxClientBufferBytes;
    const url = (config.redis as URL).href;
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1000, lazyConnect: true };
    this.command = new Redis(url, options);
    this.reader = new Redis(url, options);
    this.command.on('ready', () => this.setRedis(true, null));
    this.command.on('error', (error: Error) => this.setRedis(false, error.message || 'unreachable'));
    this.command.on('close', () => this.setRedis(false, 'connection closed'));
    this.reader.on('error', () => {
      // Reported through the command connection; the read loop retries.
    });
  }

  /** Connects (and keeps retrying), then follows every host's stream. Resolves once Redis answered or 5 s passed. */
  async start(): Promise<void> {
    this.command.connect().catch(() => {});
    this.reader.connect().catch(() => {});
    this.timers.push(setInterval(() => void this.discover(), DISCOVER_MS));
    this.timers.push(
      setInterval(() => {
        for (const mirror of this.mirrors.values()) mirror.hub.broadcast(HEARTBEAT);
      }, this.config.heartbeatMs),
    );
    void this.readLoop();
    const deadline = Date.now() + 5000;
    while (!this.redis.ok && Date.now() < deadline) await sleep(50);
    await this.discover();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const mirror of this.mirrors.values()) mirror.streams.endAll();
    this.command.disconnect();
    this.reader.disconnect();
  }

  board(host: string | undefined): BoardLookup {
    const known = () => [...this.mirrors.keys()].sort().join(', ') || 'none yet';
    if (host === undefined || host === '')
      return { ok: false, status: 400, error: `this is a fleet hub: name a host with ?host= (known: ${known()})` };
    if (!HOST_NAME.test(host)) return { ok: false, status: 400, error: 'host: expected 1-63 letters, digits, ".", "_" or "-"' };
    const mirror = this.mirrors.get(host);
    if (!mirror) return { ok: false, status: 404, error: `unknown host "${host}" (known: ${known()})` };
    return { ok: true, board: mirror };
  }

  all(): HostMirror[] {
    return [...this.mirrors.values()];
  }

  status(): Record<string, unknown> {
    let streams = 0;
    for (const mirror of this.mirrors.values()) streams += mirror.streams.count;
    return {
      status: this.redis.ok ? 'ok' : 'degraded',
      mode: 'fleet',
      version: this.version,
      uptime: Math.round(process.uptime()),
      redis: this.redis,
      hosts: this.mirrors.size,
      streams,
    };
  }

  fleet(): FleetStatus {
    const now = Date.now();
    const hosts = this.all()
      .map((mirror) => this.tile(mirror, now))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { t: now, redis: this.redis, hosts };
  }

  private tile(mirror: HostMirror, now: number): FleetHost {
    const cpu = mirror.hub.latest('cpu')?.data;
    const memory = mirror.hub.latest('memory')?.data;
    const staleAfter = Math.max(STALE_INTERVALS * mirror.interval, STALE_MIN_MS);
    return {
      name: mirror.name,
      hostname: mirror.host.hostname,
      os: mirror.host.os,
      version: mirror.version,
      lastSeen: mirror.lastSeen,
      stale: mirror.lastSeen === null || now - mirror.lastSeen > staleAfter,
      cpu: cpu ? cpu.total : null,
      memory: memory ? { used: memory.used, total: memory.total } : null,
      failing: mirror
        .health()
        .filter((health) => !health.ok)
        .map((health) => health.topic),
      alerts: mirror.activeAlerts(),
    };
  }

  private setRedis(ok: boolean, error: string | null): void {
    if (this.closed || this.redis.ok === ok) {
      if (!ok) this.redis = { ...this.redis, error };
      return;
    }
    this.redis = { ok, error, since: Date.now() };
    this.log(ok ? 'Redis reachable' : `Redis unreachable (${error}); serving what is held, retrying`);
  }

  /** Finds hosts, loads the history of new ones, and refreshes the info of known ones. */
  private async discover(): Promise<void> {
    if (!this.redis.ok || this.closed) return;
    try {
      const names = (await this.command.smembers(HOSTS_KEY)).filter((name) => HOST_NAME.test(name));
      const infos = names.length > 0 ? await this.command.pipeline(names.map((name) => ['hget', infoKey(name), 'info'])).exec() : [];
      names.forEach((name, i) => {
        const info = parseInfo(infos?.[i]?.[1]);
        if (!info) return;
        const mirror = this.mirrors.get(name);
        if (mirror) mirror.updateInfo(info);
        else if (!this.loading.has(name))
          this.loading.set(
            name,
            this.load(name, info).finally(() => this.loading.delete(name)),
          );
      });
      await Promise.all(this.loading.values());
    } catch {
      // Redis went away mid-way: the next round tries again.
    }
  }

  /** Reads a new host's whole stream (bounded by its MAXLEN), then adds it to the live read. */
  private async load(name: string, info: AgentInfo): Promise<void> {
    const mirror = new HostMirror(name, info, this.log);
    let start = '-';
    for (;;) {
      const entries = (await this.command.xrange(eventsKey(name), start, '+', 'COUNT', LOAD_CHUNK)) as StreamEntry[];
      mirror.ingest(entries);
      if (entries.length < LOAD_CHUNK) break;
      start = `(${mirror.lastId}`;
    }
    this.mirrors.set(name, mirror);
  }

  private async readLoop(): Promise<void> {
    while (!this.closed) {
      const mirrors = this.all();
      if (mirrors.length === 0 || this.reader.status !== 'ready') {
        await sleep(250);
        continue;
      }
      try {
        const keys = mirrors.map((mirror) => eventsKey(mirror.name));
        const ids = mirrors.map((mirror) => mirror.lastId);
        const result = (await this.reader.xread('COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', ...keys, ...ids)) as
          | [string, StreamEntry[]][]
          | null;
        for (const [key, entries] of result ?? []) {
          const mirror = mirrors[keys.indexOf(key)];
          mirror?.ingest(entries);
        }
      } catch {
        if (!this.closed) await sleep(1000);
      }
    }
  }
}

function parseInfo(raw: unknown): AgentInfo | null {
  if (typeof raw !== 'string') return null;
  try {
    const info = JSON.parse(raw) as AgentInfo;
    const valid =
      typeof info === 'object' &&
      info !== null &&
      typeof info.bootId === 'string' &&
      typeof info.host?.hostname === 'string' &&
      Array.isArray(info.topics) &&
      Array.isArray(info.collectors) &&
      Array.isArray(info.alerts) &&
      Number.isSafeInteger(info.capacity) &&
      info.capacity > 0 &&
      info.capacity <= 50_000_000 &&
      typeof info.interval === 'number' &&
      typeof info.historyMs === 'number';
    return valid ? info : null;
  } catch {
    return null;
  }
}
