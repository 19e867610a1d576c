import type { SampleByTopic, Topic } from '../protocol.js';

/**
 * One source of samples. Collectors own no timers: the sampler calls `sample()` on the cadence,
 * with a timeout, and isolates any failure. `sample()` may be sync or async.
 */
export interface Collector<T extends Topic = Topic> {
  readonly topic: T;
  /** Where the numbers come from, e.g. `procfs` or `systeminformation`; shown in collector health. */
  readonly source: string;
  readonly cadenceMs: number;
  /**
   * A slower cadence for while no stream wants this topic (the sampler is told through `setWatched`), for a
   * collector whose cost matters to an idle server. Absent: `cadenceMs` always.
   */
  readonly idleCadenceMs?: number;
  /** Reads baseline counters, so that the first scheduled sample already carries a real rate. */
  init?(): Promise<void>;
  /**
   * The sample at `now` (ms since epoch), or null when there is nothing to report this time. `lateMs`: how
   * late the sampler's timer fired for this sample (absent for samples outside the schedule).
   */
  sample(now: number, lateMs?: number): Promise<SampleByTopic[T] | null> | SampleByTopic[T] | null;
  /** A problem with its input that does not stop it (shown as the health's `warning`); undefined when none. */
  warning?(): string | undefined;
  /** Releases kept-open descriptors and monitors. */
  close?(): void;
}

export interface CollectorOptions {
  /** The base sampling interval, ms. */
  intervalMs: number;
  /** Cadence of the filesystem collector, ms. */
  filesystemIntervalMs: number;
  /** Network interfaces whose name matches are left out (container hosts have hundreds). */
  excludeInterfaces: RegExp;
  /** Filesystem types that are left out (tmpfs, overlay, ...). */
  excludeFsTypes: RegExp;
  /** Upper bound on the interfaces / mounts listed in one sample, so payloads stay bounded. */
  maxItems: number;
  /** The Docker/Podman API socket containers are named from; null to name them from cgroup paths only. */
  dockerSocket: string | null;
  /** The host's /proc and /sys (default /proc and /sys): a container watching its host has them mounted elsewhere. */
  procfs: string | null;
  sysfs: string | null;
  /** Force the portable systeminformation sources even where /proc is available (tests, comparisons). */
  portable: boolean;
}
