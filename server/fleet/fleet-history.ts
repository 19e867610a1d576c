import { accessSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { LOCK_FILE } from '../history/layout.js';
import { DirectoryLock } from '../history/lock.js';
import { SegmentCache } from '../history/segment-cache.js';
import { HistoryStore } from '../history/store.js';
import type { Retention } from '../history/tiers.js';
import { firstLine } from '../lib/errors.js';
import { processMemorySettle } from '../lib/memory-settle.js';
import { HOST_NAME } from './keys.js';

/** Where a hub keeps its hosts' stores, under its data directory. */
export const HOSTS_DIR = 'hosts';
/** How often the stores of hosts no longer served are sealed and pruned. */
const SWEEP_MS = 3_600_000;
/** What a swept store keeps in memory should its directory fail: it is closed within the sweep anyway. */
const SWEEP_MEMORY_MS = 3_600_000;

/** What a hub's durable history needs of the configuration (the CLI's Config satisfies it). */
export interface FleetHistoryOptions {
  /** The hub's data directory; null keeps no history beyond what Redis and memory hold. */
  dataDir: string | null;
  retention: Retention;
}

/** What a hub's `/healthz` says of its hosts' history. */
export interface FleetHistoryStatus {
  writing: boolean;
  dir: string | null;
  error: string | null;
  /** Hosts with a store open, and of those, the ones whose store does not write (its own line says why). */
  hosts: number;
  notWriting: string[];
  /** Bytes of every open store (journal and segments). */
  bytes: number;
}

/**
 * A host's directory under `<dataDir>/hosts/`, or null when its name is not a plain path segment that
 * stays there (`..`, a separator, anything `HOST_NAME` does not allow): such a host gets no store.
 */
export function hostDirectory(dataDir: string, name: string): string | null {
  if (!HOST_NAME.test(name) || name === '.' || name === '..') return null;
  const hosts = resolve(dataDir, HOSTS_DIR);
  const dir = resolve(hosts, name);
  const inside = relative(hosts, dir);
  if (inside !== name || inside.includes(sep)) return null;
  return join(dataDir, HOSTS_DIR, name);
}

/**
 * A hub's durable history: one HistoryStore per host under `<dataDir>/hosts/<name>/` (the layout of a
 * server's data directory), all of them sharing one decoded-segment cache. The hub holds the data
 * directory's lock, so a second hub (or a server) on it is refused with one line and serves live data only;
 * so is a directory it cannot create or write. The stores of hosts gone from Redis stay on disk: an
 * hourly sweep seals what their journals still hold and applies retention to them.
 */
export class FleetHistory {
  private readonly stores = new Map<string, HistoryStore>();
  /** Who hears that a host's store stopped writing or writes again: the hub's board of that host. */
  private readonly statusListeners = new Map<string, () => void>();
  private readonly cache = new SegmentCache();
  private lock: DirectoryLock | null = null;
  private error: string | null = null;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;
  /** The host the sweep has open now, and whether the hub asked for its store meanwhile (then it stays open). */
  private swept: { name: string; claimed: boolean } | null = null;

  private constructor(
    private readonly options: FleetHistoryOptions,
    private readonly log: (line: string) => void,
  ) {}

  /** Takes the data directory (never throws: a directory that cannot be used is a status, said once). */
  static open(options: FleetHistoryOptions, log: (line: string) => void): FleetHistory {
    const history = new FleetHistory(options, log);
    if (options.dataDir !== null) history.take(options.dataDir);
    return history;
  }

  get writing(): boolean {
    return this.lock !== null;
  }

  private take(dir: string): void {
    try {
      mkdirSync(join(dir, HOSTS_DIR), { recursive: true });
      accessSync(join(dir, HOSTS_DIR), constants.W_OK);
      const lock = new DirectoryLock(join(dir, LOCK_FILE));
      const held = lock.acquire();
      if (held) {
        this.refuse(dir, held);
        return;
      }
      this.lock = lock;
    } catch (error) {
      this.refuse(dir, describe(error));
    }
  }

  private refuse(dir: string, why: string): void {
    this.error = `history: ${dir}: ${why}; the hosts' history is not being written, live data is served from Redis and memory`;
    this.log(this.error);
  }

  /** Starts the hourly sweep of the hosts not served. */
  start(served: () => Iterable<string>): void {
    if (!this.writing || this.sweepTimer) return;
    this.sweepTimer = setInterval(() => void this.sweep(served()), SWEEP_MS);
    this.sweepTimer.unref();
  }

  /**
   * A host's store, opened (and started) on first use; null when the hub keeps no history or the name is unsafe.
   * `onStatusChange`: the store stopped writing, or writes again.
   */
  store(name: string, memoryMs: number, onStatusChange?: () => void): HistoryStore | null {
    if (onStatusChange) this.statusListeners.set(name, onStatusChange);
    const known = this.stores.get(name);
    if (known) {
      if (this.swept?.name === name) this.swept.claimed = true;
      return known;
    }
    const dir = this.writing ? hostDirectory(this.options.dataDir as string, name) : null;
    if (dir === null) return null;
    const store = HistoryStore.open({
      dir,
      retention: this.options.retention,
      memoryMs,
      log: this.log,
      cache: this.cache,
      afterBulkWork: (release) => processMemorySettle().afterBulkWork(release),
      onStatusChange: this.statusChangeOf(name),
    });
    store.start();
    this.stores.set(name, store);
    return store;
  }

  /** A store's status change, told to whoever listens for that host now (a store the sweep opened may be claimed later). */
  private statusChangeOf(name: string): () => void {
    return () => this.statusListeners.get(name)?.();
  }

  /** A host no longer served: its store writes what it holds and lets its directory go; the files stay. */
  release(name: string): void {
    this.statusListeners.delete(name);
    this.stores.get(name)?.close();
    this.stores.delete(name);
  }

  /**
   * The directories of hosts not served (gone from Redis, or not back yet after a restart): each opened,
   * its complete hours sealed and retention applied, and closed, one after another.
   */
  sweep(served: Iterable<string>): Promise<void> {
    if (!this.writing || this.sweeping) return this.sweeping ?? Promise.resolve();
    const skip = new Set(served);
    const work = (async () => {
      const hostsDir = join(this.options.dataDir as string, HOSTS_DIR);
      let names: string[];
      try {
        names = readdirSync(hostsDir).filter((name) => !skip.has(name) && !this.stores.has(name));
      } catch (error) {
        this.log(`history: ${hostsDir}: ${describe(error)}; not swept`);
        return;
      }
      for (const name of names) {
        const dir = hostDirectory(this.options.dataDir as string, name);
        if (dir === null || !statSync(dir, { throwIfNoEntry: false })?.isDirectory() || this.stores.has(name)) continue;
        const store = HistoryStore.open({
          dir,
          retention: this.options.retention,
          memoryMs: SWEEP_MEMORY_MS,
          log: this.log,
          cache: this.cache,
          afterBulkWork: (release) => processMemorySettle().afterBulkWork(release),
          onStatusChange: this.statusChangeOf(name),
        });
        // In the map while it works: a host that comes back meanwhile gets this store rather than a refused second one.
        this.stores.set(name, store);
        this.swept = { name, claimed: false };
        try {
          await store.tick();
        } finally {
          if (this.swept.claimed) store.start();
          else this.release(name);
          this.swept = null;
        }
      }
    })().finally(() => {
      this.sweeping = null;
    });
    this.sweeping = work;
    return work;
  }

  status(): FleetHistoryStatus {
    let bytes = 0;
    const notWriting: string[] = [];
    for (const [name, store] of this.stores) {
      const status = store.status();
      bytes += status.bytes;
      if (!status.writing) notWriting.push(name);
    }
    return {
      writing: this.writing,
      dir: this.options.dataDir,
      error: this.error,
      hosts: this.stores.size,
      notWriting: notWriting.sort(),
      bytes,
    };
  }

  /** Every store writes what it holds and lets its directory go; then the data directory's lock goes. */
  close(): void {
    clearInterval(this.sweepTimer);
    for (const name of [...this.stores.keys()]) this.release(name);
    this.lock?.release();
    this.lock = null;
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `not writable (${code})`;
  return firstLine(error);
}
