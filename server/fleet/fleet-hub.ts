import { Redis } from 'ioredis';
import { firstLine } from '../lib/errors.js';
import type { FleetHost, FleetStatus } from '../protocol.js';
import type { BoardLookup, Boards } from '../stream/board.js';
import { StreamLimits } from '../stream/limits.js';
import { HEARTBEAT } from '../stream/sse.js';
import { FleetHistory, type FleetHistoryOptions } from './fleet-history.js';
import { type AgentInfo, eventsKey, HOST_NAME, HOSTS_KEY, infoKey, type StreamEntry } from './keys.js';
import { HostMirror } from './mirror.js';
import { parseAgentInfo } from './payloads.js';

/** How often the hub looks for new hosts and re-reads their info. */
/** How often Redis's host set is read for hosts come and gone. */
export const DISCOVER_MS = 2000;
/** Longest a blocking read waits, so new hosts join the read within this. */
const READ_BLOCK_MS = 2000;
const READ_COUNT = 1000;
const LOAD_CHUNK = 5000;
/** A host is stale after this many of its intervals without an event (and at least STALE_MIN_MS). */
const STALE_INTERVALS = 3;
const STALE_MIN_MS = 5000;

/** What the hub needs of the configuration (the CLI's Config satisfies it). */
export interface FleetHubOptions extends FleetHistoryOptions {
  redis: URL | null;
  maxStreams: number;
  maxStreamsPerClient: number;
  maxClientBufferBytes: number;
  heartbeatMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hub mode: serves the boards of every host found in Redis. One connection blocks on XREAD over all
 * host streams; another discovers hosts and loads their history. The event logs are what Redis holds,
 * so a restarted hub (or another replica) serves the same ids; with a data directory the hub also keeps
 * each host's tiers (fleet-history.ts), which `/api/history` ranges answer from.
 */
export class FleetHub implements Boards {
  readonly streamLimits: StreamLimits;
  readonly maxClientBufferBytes: number;
  private readonly mirrors = new Map<string, HostMirror>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Hosts whose info hash does not fit the protocol, with the reason. */
  private readonly invalidInfo = new Map<string, string>();
  /** Members of the host set that are no host name. */
  private invalidNames = 0;
  private readonly command: Redis;
  private readonly reader: Redis;
  private redis: FleetStatus['redis'] = { ok: false, error: 'connecting', since: Date.now() };
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly log: (line: string) => void;
  private readonly history: FleetHistory;

  constructor(
    private readonly config: FleetHubOptions,
    readonly version: string,
    log?: (line: string) => void,
    /** Tests shorten it, to see hosts come and go without waiting seconds for each. */
    private readonly discoverMs = DISCOVER_MS,
  ) {
    this.log = log ?? ((line) => process.stderr.write(`pulseboard: ${line}\n`));
    this.streamLimits = new StreamLimits(config.maxStreams, config.maxStreamsPerClient);
    this.history = FleetHistory.open(config, this.log);
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
    this.timers.push(setInterval(() => void this.discover(), this.discoverMs));
    this.timers.push(
      setInterval(() => {
        for (const mirror of this.mirrors.values()) mirror.hub.broadcast(HEARTBEAT);
      }, this.config.heartbeatMs),
    );
    void this.readLoop();
    const deadline = Date.now() + 5000;
    while (!this.redis.ok && Date.now() < deadline) await sleep(50);
    await this.discover();
    // Hosts with a directory but not in Redis (gone while the hub was down): their hours sealed, retention applied.
    void this.history.sweep(this.mirrors.keys());
    this.history.start(() => this.mirrors.keys());
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const mirror of this.mirrors.values()) mirror.streams.endAll();
    this.history.close();
    this.command.disconnect();
    this.reader.disconnect();
  }

  board(host: string | undefined): BoardLookup {
    const known = () => [...this.mirrors.keys()].sort().join(', ') || 'none yet';
    if (host === undefined || host === '')
      return { ok: false, status: 400, error: `this is a fleet hub: name a host with ?host= (known: ${known()})` };
    if (!HOST_NAME.test(host)) return { ok: false, status: 400, error: 'host: expected 1-63 letters, digits, ".", "_" or "-"' };
    const mirror = this.mirrors.get(host);
    if (mirror) return { ok: true, board: mirror };
    const invalid = this.invalidInfo.get(host);
    if (invalid) return { ok: false, status: 502, error: `host "${host}" is not served: its info in Redis is invalid (${invalid})` };
    return { ok: false, status: 404, error: `unknown host "${host}" (known: ${known()})` };
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
      history: this.history.status(),
      warnings: this.warnings(),
    };
  }

  /** What Redis held that does not fit the protocol, per host: left out, counted, named here. */
  private warnings(): string[] {
    const warnings: string[] = [];
    for (const mirror of this.all()) {
      if (mirror.skipped === 0) continue;
      const entries = mirror.skipped === 1 ? 'entry' : 'entries';
      warnings.push(`host "${mirror.name}": ${mirror.skipped} invalid stream ${entries} skipped (newest: ${mirror.lastSkipped})`);
    }
    for (const [name, reason] of this.invalidInfo) {
      const served = this.mirrors.has(name) ? 'serving its last valid info' : 'not served';
      warnings.push(`host "${name}": its info in Redis is invalid (${reason}); ${served}`);
    }
    if (this.invalidNames > 0) warnings.push(`${this.invalidNames} members of ${HOSTS_KEY} are not host names; ignored`);
    return warnings.sort();
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

  /**
   * Finds hosts, loads the history of new ones, refreshes the info of known ones, and drops the ones gone
   * from Redis (out of the host set, or their info hash deleted).
   */
  private async discover(): Promise<void> {
    if (!this.redis.ok || this.closed) return;
    try {
      const members = await this.command.smembers(HOSTS_KEY);
      const names = members.filter((name) => HOST_NAME.test(name));
      this.invalidNames = members.length - names.length;
      const infos = names.length > 0 ? await this.command.pipeline(names.map((name) => ['hget', infoKey(name), 'info'])).exec() : [];
      if (!infos) return;
      const present = new Set<string>();
      names.forEach((name, i) => {
        const [error, raw] = infos[i] ?? [null, null];
        if (raw === null && !error) return;
        present.add(name);
        const info = typeof raw === 'string' ? parseAgentInfo(raw) : { ok: false as const, error: `${infoKey(name)}: ${firstLine(error)}` };
        if (!info.ok) {
          this.noteInvalidInfo(name, info.error);
          return;
        }
        this.invalidInfo.delete(name);
        const mirror = this.mirrors.get(name);
        if (mirror) mirror.updateInfo(info.value);
        else if (!this.loading.has(name))
          this.loading.set(
            name,
            this.load(name, info.value).finally(() => this.loading.delete(name)),
          );
      });
      for (const name of this.mirrors.keys()) if (!present.has(name)) this.drop(name);
      for (const name of this.invalidInfo.keys()) if (!present.has(name)) this.invalidInfo.delete(name);
      await Promise.all(this.loading.values());
    } catch {
      // Redis went away mid-way: the next round tries again.
    }
  }

  private noteInvalidInfo(name: string, reason: string): void {
    if (this.invalidInfo.get(name) === reason) return;
    this.invalidInfo.set(name, reason);
    const served = this.mirrors.has(name) ? 'serving its last valid info' : 'not serving it';
    this.log(`host ${name}: its info in Redis is invalid (${reason}); ${served}`);
  }

  /** A host gone from Redis: its streams end (their clients reconnect and learn it is unknown). */
  private drop(name: string): void {
    this.mirrors.get(name)?.streams.endAll();
    this.mirrors.delete(name);
    // Its files stay (retention prunes them): a host that comes back finds its history.
    this.history.release(name);
    this.log(`host ${name} is gone from Redis; dropped it`);
  }

  /** Reads a new host's whole stream (bounded by its MAXLEN), then adds it to the live read. */
  private async load(name: string, info: AgentInfo): Promise<void> {
    let mirror: HostMirror | null = null;
    const store = this.history.store(name, info.historyMs, () => mirror?.historyChanged());
    mirror = new HostMirror(name, info, this.log, store);
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
