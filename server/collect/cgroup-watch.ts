import { type FSWatcher, statSync, watch } from 'node:fs';

/** Watches one directory, calling back with `fs.watch`'s event type ('rename' when an entry is made or removed). */
export type WatchDirectory = (dir: string, onEvent: (type: string) => void) => FSWatcher;

/** `fs.watch` without keeping the process alive. */
export const fsWatch: WatchDirectory = (dir, onEvent) => watch(dir, { persistent: false }, (type) => onEvent(type));

/**
 * More events than this that are not entries made or removed, within `NOISE_WINDOW_MS`, and a directory's
 * watch costs more than listing it: a v2 cgroup's `memory.events` or `cgroup.events` changes at every
 * breach of its `memory.high`, up to ~50 times a second, and each event wakes the process. Such a directory
 * is listed at each walk instead, as one without a watch.
 */
export const NOISY_EVENTS = 20;
export const NOISE_WINDOW_MS = 5000;

interface Watched {
  watcher: FSWatcher | null;
  /** Events other than entries made or removed since `noiseSince`. */
  noise: number;
  noiseSince: number;
  /** An entry was made or removed (or the directory itself went) since the directory was last listed. */
  changed: boolean;
  /** The directory's inode when the watch was set: another directory made at the same path has another. */
  inode: number;
}

/**
 * Directories watched through inotify for entries made or removed. The kernel sends IN_CREATE and IN_DELETE
 * for a cgroup's `mkdir` and `rmdir` on v1 hierarchies and on the v2 tree (kernfs; checked on 6.18), where a
 * directory's mtime and size never move. A directory whose watch cannot be set (the inotify watch limit
 * reached, a file system without inotify) or fails later is reported unwatched, and its caller lists it as
 * before. Events arrive between samples (the event loop reads them while it waits for the next one).
 * kernfs sends a removed directory's own watch nothing (no IN_DELETE_SELF, unlike tmpfs or ext4): a cgroup
 * removed and made again at the same path between two samples is told by its parent's event and its inode.
 */
export class DirectoryWatches {
  private readonly watched = new Map<string, Watched>();
  /** Directories whose watch could not be set or failed: not tried again. */
  private readonly failed = new Set<string>();
  /** Entries made or removed in any watched directory since this was made: a walk compares it with the last. */
  changes = 0;

  constructor(
    private readonly watchDirectory: WatchDirectory = fsWatch,
    private readonly now: () => number = Date.now,
  ) {}

  /** A watch woken too often by control files is let go: the directory is listed at each walk instead. */
  private noticeNoise(key: string, watched: Watched): void {
    const now = this.now();
    if (now - watched.noiseSince > NOISE_WINDOW_MS) {
      watched.noise = 0;
      watched.noiseSince = now;
    }
    if (++watched.noise <= NOISY_EVENTS) return;
    this.forget(key);
    this.failed.add(key);
    this.changes++;
  }

  /** Whether `key`'s entries are as they were when it was last listed: false when it is not watched, or changed since. */
  unchanged(key: string): boolean {
    const entry = this.watched.get(key);
    return entry !== undefined && !entry.changed;
  }

  /** Whether `key` is watched and an entry was made or removed in it since it was last listed. */
  changed(key: string): boolean {
    return this.watched.get(key)?.changed === true;
  }

  /** Whether `key`'s watch could not be set or failed: its caller lists it without one. */
  unwatchable(key: string): boolean {
    return this.failed.has(key);
  }

  /** Drops `key`'s watch when `dir` is no longer the directory it was set on (removed and made again). */
  forgetIfReplaced(key: string, dir: string): void {
    const entry = this.watched.get(key);
    if (entry && inodeOf(dir) !== entry.inode) this.forget(key);
  }

  /**
   * Called just before `key` (at `dir`) is listed: from now on its changes count. A directory that changed is
   * watched afresh (it may be another directory made at the same path). False when it cannot be watched.
   */
  listing(key: string, dir: string): boolean {
    const entry = this.watched.get(key);
    if (entry && !entry.changed) return true;
    if (entry) this.forget(key);
    if (this.failed.has(key)) return false;
    const watched: Watched = { watcher: null, changed: false, inode: inodeOf(dir), noise: 0, noiseSince: this.now() };
    try {
      watched.watcher = this.watchDirectory(dir, (type) => {
        if (type !== 'rename') {
          // 'change': a control file written (`cgroup.procs`) or notified (`cgroup.events`, `memory.events`).
          this.noticeNoise(key, watched);
          return;
        }
        watched.changed = true;
        this.changes++;
      });
    } catch {
      this.failed.add(key);
      return false;
    }
    watched.watcher.on('error', () => {
      this.forget(key);
      this.failed.add(key);
      this.changes++;
    });
    this.watched.set(key, watched);
    return true;
  }

  /** Stops watching every directory `found` does not hold (cgroups gone). */
  keepOnly(found: ReadonlyMap<string, unknown>): void {
    for (const key of this.watched.keys()) if (!found.has(key)) this.forget(key);
    for (const key of this.failed) if (!found.has(key)) this.failed.delete(key);
  }

  close(): void {
    for (const key of [...this.watched.keys()]) this.forget(key);
  }

  private forget(key: string): void {
    const entry = this.watched.get(key);
    if (!entry) return;
    this.watched.delete(key);
    entry.watcher?.close();
  }
}

/** -1 when the directory is gone. */
function inodeOf(dir: string): number {
  try {
    return statSync(dir).ino;
  } catch {
    return -1;
  }
}
