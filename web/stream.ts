import type { EventName, HelloPayload, PayloadOf } from '../server/protocol.js';
import { EventOrder } from './event-order.js';

/** What the status pill shows. */
export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'stale'; silentMs: number }
  | { kind: 'reconnecting'; attempt: number; nextAt: number }
  | { kind: 'offline' };

export type Handlers = { [E in EventName]?: (data: PayloadOf<E>, id: string) => void };

/** The slice of the browser's EventSource this module uses, so tests can hand in their own. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
  onerror: ((event: Event) => void) | null;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface StreamOptions {
  /** Relative, so the page works under any base path. */
  url: string;
  handlers: Handlers;
  onState: (state: ConnectionState) => void;
  createEventSource?: EventSourceFactory;
  clock?: Clock;
  random?: () => number;
  /** Whether the browser says it is online; listen for changes with `setOnline`. */
  online?: boolean;
  /** What was applied before this stream existed (a tab taking over the shared stream resumes from it). */
  order?: EventOrder;
}

/** Every event the server sends; a Record, so a new event name in the protocol fails to compile until listed. */
const EVENTS: Record<EventName, true> = {
  hello: true,
  backfill: true,
  cpu: true,
  memory: true,
  network: true,
  disk: true,
  filesystem: true,
  temperature: true,
  process: true,
  processes: true,
  containers: true,
  requests: true,
  health: true,
  alert: true,
  silence: true,
};
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 30_000;
export const STALE_FACTOR = 2.5;

/** Capped exponential backoff with ±20 % jitter, so a wall of screens does not reconnect in step. */
export function backoffDelay(attempt: number, random: () => number): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

const browserClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as number),
  setInterval: (callback, ms) => globalThis.setInterval(callback, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as number),
};

/**
 * One EventSource for the page, with a connection state machine. On any error the EventSource is
 * closed and re-created by us with backoff, forever, carrying the last applied id as `?lastEventId=`
 * (a new EventSource cannot send the Last-Event-ID header), so the server replays exactly what was missed.
 * Events whose id is not newer than the last applied one of the same boot are dropped: no doubled points.
 */
export class Stream {
  private source: EventSourceLike | null = null;
  private state: ConnectionState = { kind: 'connecting' };
  private attempt = 0;
  private retryTimer: unknown = null;
  private watchdog: unknown = null;
  private lastEventAt = 0;
  private expectedGapMs = 1000;
  private readonly order: EventOrder;
  private online: boolean;
  private stopped = true;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly createEventSource: EventSourceFactory;

  constructor(private readonly options: StreamOptions) {
    this.clock = options.clock ?? browserClock;
    this.random = options.random ?? Math.random;
    this.online = options.online ?? true;
    this.order = options.order ?? new EventOrder();
    this.createEventSource = options.createEventSource ?? ((url) => new EventSource(url) as EventSourceLike);
  }

  get lastEventId(): string | null {
    return this.order.lastId;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  start(): void {
    this.stopped = false;
    this.watchdog = this.clock.setInterval(() => this.checkStale(), 250);
    if (this.online) this.connect();
    else this.setState({ kind: 'offline' });
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearInterval(this.watchdog);
    this.clock.clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  /** Browser online/offline events. */
  setOnline(online: boolean): void {
    this.online = online;
    if (this.stopped) return;
    if (!online) {
      this.clock.clearTimeout(this.retryTimer);
      this.source?.close();
      this.source = null;
      this.setState({ kind: 'offline' });
    } else if (this.state.kind === 'offline') {
      this.attempt = 0;
      this.connect();
    }
  }

  private url(): string {
    const lastId = this.order.lastId;
    if (!lastId) return this.options.url;
    const separator = this.options.url.includes('?') ? '&' : '?';
    return `${this.options.url}${separator}lastEventId=${encodeURIComponent(lastId)}`;
  }

  private connect(): void {
    this.clock.clearTimeout(this.retryTimer);
    if (this.state.kind !== 'reconnecting') this.setState({ kind: 'connecting' });
    const source = this.createEventSource(this.url());
    this.source = source;
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (event) => {
        if (this.source === source) this.receive(name, event);
      });
    }
    source.onerror = () => {
      if (this.source === source) this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.source?.close();
    this.source = null;
    if (this.stopped) return;
    if (!this.online) {
      this.setState({ kind: 'offline' });
      return;
    }
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.random);
    this.setState({ kind: 'reconnecting', attempt: this.attempt, nextAt: this.clock.now() + delay });
    this.retryTimer = this.clock.setTimeout(() => this.connect(), delay);
  }

  private receive(name: EventName, event: MessageEvent<string>): void {
    this.lastEventAt = this.clock.now();
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (name === 'hello') {
      const hello = data as HelloPayload;
      this.expectedGapMs = Math.max(hello.interval, 50);
      this.order.hello(hello);
      this.attempt = 0;
      this.setState({ kind: 'live' });
    } else {
      if (!this.order.accept(event.lastEventId)) return;
      if (this.state.kind === 'stale') this.setState({ kind: 'live' });
    }
    const handler = this.options.handlers[name] as ((payload: unknown, id: string) => void) | undefined;
    handler?.(data, event.lastEventId);
  }

  private checkStale(): void {
    if (this.state.kind !== 'live' && this.state.kind !== 'stale') return;
    const silentMs = this.clock.now() - this.lastEventAt;
    if (silentMs > STALE_FACTOR * this.expectedGapMs) this.setState({ kind: 'stale', silentMs });
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.options.onState(state);
  }
}
