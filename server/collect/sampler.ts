import { firstLine } from '../lib/errors.js';
import type { CollectorHealth, Sample, Topic } from '../protocol.js';
import type { Collector } from './collector.js';

export interface SamplerOptions {
  timeoutMs: number;
  publish: (topic: Topic, sample: Sample) => void;
  /** Called when any collector changes between ok and failing (or its error or warning changes). */
  onHealthChange: (health: CollectorHealth[]) => void;
  now?: () => number;
}

const SAMPLE_AT_START_FROM_MS = 2000;
const SETTLED = Promise.resolve();

interface CollectorState {
  collector: Collector;
  health: CollectorHealth;
  running: boolean;
  /** The cadence in force: the collector's, or its idle one while no stream wants the topic. */
  cadenceMs: number;
}

/** The one timer of every collector at one cadence: they sample in the same turn, woken once. */
interface Tick {
  cadenceMs: number;
  states: CollectorState[];
  timer: NodeJS.Timeout | undefined;
  nextAt: number;
}

/**
 * Runs every collector on its own cadence. A collector that throws, hangs past the timeout or returns
 * a non-finite or negative number is reported as failing; the others carry on. A hung collector is not
 * started again until its pending call settles, so hangs cannot pile up.
 */
export class Sampler {
  private readonly states: CollectorState[];
  private readonly ticks = new Map<number, Tick>();
  private stopped = true;
  private readonly now: () => number;

  constructor(
    collectors: readonly Collector[],
    private readonly options: SamplerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.states = collectors.map((collector) => ({
      collector,
      running: false,
      cadenceMs: collector.cadenceMs,
      health: {
        topic: collector.topic,
        ok: true,
        source: collector.source,
        cadenceMs: collector.cadenceMs,
        failures: 0,
        lastOk: null,
      },
    }));
  }

  get topics(): Topic[] {
    return this.states.map((state) => state.collector.topic);
  }

  health(): CollectorHealth[] {
    return this.states.map((state) => ({ ...state.health }));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const state of this.states) {
      // A slow cadence (filesystems every 30 s) would leave its panel empty for that long: sample it now.
      if (state.cadenceMs >= SAMPLE_AT_START_FROM_MS) void this.run(state);
      this.join(state);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const tick of this.ticks.values()) clearTimeout(tick.timer);
    this.ticks.clear();
    for (const state of this.states) state.collector.close?.();
  }

  /**
   * Whether some stream wants `topic`. A collector with an idle cadence samples at it while unwatched; when
   * watched again it samples at once (the page gets a fresh one, not one up to an idle period old) and then
   * at its own cadence. Other collectors ignore this.
   */
  setWatched(topic: Topic, watched: boolean): void {
    const state = this.states.find((s) => s.collector.topic === topic);
    const idleCadenceMs = state?.collector.idleCadenceMs;
    if (!state || idleCadenceMs === undefined) return;
    const cadence = watched ? state.collector.cadenceMs : idleCadenceMs;
    if (cadence === state.cadenceMs) return;
    if (!this.stopped) this.leave(state);
    state.cadenceMs = cadence;
    if (this.stopped) return;
    if (watched) void this.run(state);
    this.join(state);
  }

  /** Whether `topic` samples at its idle cadence now (no stream wants it): its newest sample may be that old. */
  isIdle(topic: Topic): boolean {
    const state = this.states.find((s) => s.collector.topic === topic);
    return state !== undefined && state.cadenceMs !== state.collector.cadenceMs;
  }

  /** Samples one collector now, outside its schedule (at start-up, before an alert message quotes it, in tests). */
  sampleNow(topic: Topic): Promise<void> {
    const state = this.states.find((s) => s.collector.topic === topic);
    return state ? this.run(state) : Promise.resolve();
  }

  /** Adds a collector to the tick of its cadence; a new tick is aligned to multiples of the cadence. */
  private join(state: CollectorState): void {
    const tick = this.ticks.get(state.cadenceMs);
    if (tick) {
      tick.states = [...tick.states, state];
      return;
    }
    const cadenceMs = state.cadenceMs;
    const created: Tick = { cadenceMs, states: [state], timer: undefined, nextAt: Math.ceil(this.now() / cadenceMs) * cadenceMs };
    this.ticks.set(cadenceMs, created);
    this.schedule(created);
  }

  private leave(state: CollectorState): void {
    const tick = this.ticks.get(state.cadenceMs);
    if (!tick) return;
    tick.states = tick.states.filter((other) => other !== state);
    if (tick.states.length > 0) return;
    clearTimeout(tick.timer);
    this.ticks.delete(tick.cadenceMs);
  }

  private schedule(tick: Tick): void {
    if (this.stopped || this.ticks.get(tick.cadenceMs) !== tick) return;
    const cadence = tick.cadenceMs;
    const now = this.now();
    // After a long stall (suspended laptop, blocked loop) skip the missed ticks instead of bursting.
    if (tick.nextAt < now - cadence) tick.nextAt = Math.ceil(now / cadence) * cadence;
    const delay = Math.max(0, tick.nextAt - now);
    // Lateness on the monotonic clock: a wall-clock step is not a stall.
    const armedAt = performance.now();
    tick.timer = setTimeout(() => {
      tick.nextAt += cadence;
      const lateMs = Math.max(0, performance.now() - armedAt - delay);
      // `states` is replaced, never changed in place, when a collector joins or leaves: this loop sees the tick's own.
      for (const state of tick.states) void this.run(state, lateMs);
      this.schedule(tick);
    }, delay);
  }

  /**
   * A synchronous collector (every /proc one) is handled in the timer's own turn: no promise, no deadline
   * timer, which would not interrupt it anyway. An asynchronous one races a deadline.
   */
  private run(state: CollectorState, lateMs?: number): Promise<void> {
    if (state.running) return SETTLED;
    const t = this.now();
    let result: ReturnType<Collector['sample']>;
    try {
      result = state.collector.sample(t, lateMs);
    } catch (error) {
      if (!this.stopped) this.markFailed(state, firstLine(error));
      return SETTLED;
    }
    if (result instanceof Promise) return this.settle(state, result);
    this.take(state, result);
    return SETTLED;
  }

  private async settle(state: CollectorState, pending: Promise<Sample | null>): Promise<void> {
    state.running = true;
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new Error(`timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    const finished = pending.finally(() => {
      state.running = false;
    });
    try {
      this.take(state, await Promise.race([finished, deadline]));
    } catch (error) {
      if (!this.stopped) this.markFailed(state, firstLine(error));
    } finally {
      clearTimeout(timeout);
      finished.catch(() => {});
    }
  }

  /** Checks and publishes a sample (null: nothing this time) and records the collector's health. */
  private take(state: CollectorState, sample: Sample | null): void {
    if (this.stopped) return;
    try {
      if (sample !== null) {
        const problem = findInvalidNumber(sample, state.collector.topic !== 'temperature');
        if (problem) throw new Error(`returned an invalid value: ${problem}`);
        this.options.publish(state.collector.topic, sample);
      }
      this.markOk(state);
    } catch (error) {
      this.markFailed(state, firstLine(error));
    }
  }

  private markOk(state: CollectorState): void {
    const wasOk = state.health.ok;
    // In place: health() hands out copies, and a new object per sample per collector is garbage at 1 Hz.
    state.health.ok = true;
    state.health.failures = 0;
    state.health.lastOk = this.now();
    delete state.health.error;
    const warningChanged = this.updateWarning(state);
    if (!wasOk || warningChanged) this.options.onHealthChange(this.health());
  }

  private markFailed(state: CollectorState, message: string): void {
    const changed = state.health.ok || state.health.error !== message;
    state.health = { ...state.health, ok: false, error: message, failures: state.health.failures + 1 };
    const warningChanged = this.updateWarning(state);
    if (changed || warningChanged) this.options.onHealthChange(this.health());
  }

  /** Takes the collector's warning into its health; true when it changed. */
  private updateWarning(state: CollectorState): boolean {
    const warning = state.collector.warning?.();
    if (warning === state.health.warning) return false;
    if (warning === undefined) delete state.health.warning;
    else state.health.warning = warning;
    return true;
  }
}

/** Path of the first number that is not finite (or negative, when `nonNegative`), e.g. `cores[3]: NaN`. */
export function findInvalidNumber(value: unknown, nonNegative: boolean): string | null {
  // Every sample is checked, and almost all are valid: the check builds no path strings, the search for one does.
  return allNumbersValid(value, nonNegative) ? null : pathOfInvalidNumber(value, nonNegative, '');
}

function validNumber(value: number, nonNegative: boolean): boolean {
  return Number.isFinite(value) && !(nonNegative && value < 0);
}

function allNumbersValid(value: unknown, nonNegative: boolean): boolean {
  if (typeof value === 'number') return validNumber(value, nonNegative);
  if (Array.isArray(value)) {
    for (const item of value) if (!allNumbersValid(item, nonNegative)) return false;
    return true;
  }
  if (value !== null && typeof value === 'object') {
    for (const key in value) if (!allNumbersValid((value as Record<string, unknown>)[key], nonNegative)) return false;
  }
  return true;
}

function pathOfInvalidNumber(value: unknown, nonNegative: boolean, path: string): string | null {
  if (typeof value === 'number') return validNumber(value, nonNegative) ? null : `${path || 'value'}: ${value}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = pathOfInvalidNumber(value[i], nonNegative, `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const problem = pathOfInvalidNumber(inner, nonNegative, path ? `${path}.${key}` : key);
      if (problem) return problem;
    }
  }
  return null;
}
