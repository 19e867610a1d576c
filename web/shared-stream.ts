import type { BackfillPayload, EventName, HelloPayload, HistoryResponse } from '../server/protocol.js';
import { EventOrder } from './event-order.js';
import { type ConnectionState, EVENT_NAMES, type Handlers, STALE_FACTOR, Stream } from './stream.js';

type Message =
  | { type: 'event'; name: EventName; data: unknown; id: string }
  | { type: 'state'; state: ConnectionState }
  | { type: 'hello-please' };

export type Role = 'leader' | 'follower' | 'alone';

export interface SharedStreamOptions {
  url: string;
  handlers: Handlers;
  onState: (state: ConnectionState) => void;
  /** False forces this tab to hold its own EventSource (`?share=0`). */
  share: boolean;
}

/**
 * One EventSource per browser for all the dashboard's tabs. The tab holding a Web Lock is the leader: it
 * runs the real Stream and re-broadcasts every event on a BroadcastChannel; the other tabs apply what it
 * sends. When the leader goes away (closed, crashed), the lock passes to a waiting tab, which resumes the
 * stream from the last id it applied: the server replays exactly what was missed, nothing twice.
 * Without BroadcastChannel or Web Locks, each tab keeps its own stream.
 */
export class SharedStream {
  private role: Role = 'follower';
  private stream: Stream | null = null;
  private readonly order = new EventOrder();
  private channel: BroadcastChannel | null = null;
  private lastHello: HelloPayload | null = null;
  private leaderState: ConnectionState = { kind: 'connecting' };
  private lastHeardAt = Date.now();
  /** A follower's first picture comes from /api/history; live events that arrive meanwhile wait here. */
  private pending: Message[] | null = null;

  constructor(private readonly options: SharedStreamOptions) {}

  get currentRole(): Role {
    return this.role;
  }

  get lastEventId(): string | null {
    return this.order.lastId;
  }

  start(): void {
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    if (!this.options.share || typeof BroadcastChannel === 'undefined' || !locks) {
      this.role = 'alone';
      this.becomeStreamHolder();
      return;
    }
    // Path and query: tabs of one host of a fleet share a stream, tabs of two hosts do not.
    const { pathname, search } = new URL(this.options.url, location.href);
    const scope = `${pathname}${search}`;
    this.channel = new BroadcastChannel(`pulseboard ${scope}`);
    this.channel.onmessage = (event: MessageEvent<Message>) => this.onMessage(event.data);
    this.options.onState({ kind: 'connecting' });
    this.channel.postMessage({ type: 'hello-please' } satisfies Message);
    setInterval(() => this.watchLeader(), 500);
    // Held until this tab goes away; then the browser hands the lock to the next waiting tab.
    void locks.request(`pulseboard-leader ${scope}`, () => {
      this.role = 'leader';
      this.pending = null;
      this.becomeStreamHolder();
      return new Promise<never>(() => {});
    });
  }

  setOnline(online: boolean): void {
    this.stream?.setOnline(online);
  }

  private becomeStreamHolder(): void {
    const handlers: Handlers = {};
    for (const name of EVENT_NAMES) {
      const local = this.options.handlers[name] as ((data: unknown, id: string) => void) | undefined;
      (handlers as Record<string, (data: unknown, id: string) => void>)[name] = (data, id) => {
        if (name === 'hello') this.lastHello = data as HelloPayload;
        local?.(data, id);
        this.post({ type: 'event', name, data, id });
      };
    }
    this.stream = new Stream({
      url: this.options.url,
      handlers,
      online: navigator.onLine,
      order: this.order,
      onState: (state) => {
        this.options.onState(state);
        this.post({ type: 'state', state });
      },
    });
    this.stream.start();
  }

  private post(message: Message): void {
    this.channel?.postMessage(message);
  }

  private onMessage(message: Message): void {
    if (this.role === 'leader') {
      if (message.type === 'hello-please' && this.lastHello) {
        this.post({ type: 'event', name: 'hello', data: this.lastHello, id: '' });
        this.post({ type: 'state', state: this.stream?.connectionState ?? { kind: 'connecting' } });
      }
      return;
    }
    if (this.role !== 'follower') return;
    this.lastHeardAt = Date.now();
    if (message.type === 'state') {
      this.leaderState = message.state;
      this.options.onState(message.state);
      return;
    }
    if (message.type !== 'event') return;
    if (this.pending) {
      this.pending.push(message);
      return;
    }
    this.apply(message);
  }

  private apply(message: Extract<Message, { type: 'event' }>): void {
    if (message.name === 'hello') {
      const hello = message.data as HelloPayload;
      const first = this.lastHello === null || hello.bootId !== this.lastHello.bootId;
      this.lastHello = hello;
      this.order.hello(first ? { ...hello, mode: 'reset' } : hello);
      this.options.handlers.hello?.(hello, '');
      if (first) void this.loadHistory(hello);
      return;
    }
    if (message.name === 'backfill' || this.order.accept(message.id)) {
      (this.options.handlers[message.name] as ((data: unknown, id: string) => void) | undefined)?.(message.data, message.id);
    }
  }

  /** A tab that joins late gets its history over plain HTTP, then the live events that came meanwhile. */
  private async loadHistory(hello: HelloPayload): Promise<void> {
    this.pending = [];
    try {
      const url = new URL(this.options.url.replace(/events(?=\?|$)/, 'history'), location.href);
      url.searchParams.set('since', String(Date.now() - hello.backfillMs));
      const response = await fetch(url);
      // A busy server answers 503 (Retry-After): its error body is no history.
      if (!response.ok) throw new Error(`history: ${response.status}`);
      const history = (await response.json()) as HistoryResponse;
      const backfill: BackfillPayload = { reset: true, lastSeq: -1, series: history.series, alerts: history.alerts };
      this.options.handlers.backfill?.(backfill, '');
    } catch {
      // The live events still flow; the charts fill as they come.
    }
    const waiting = this.pending ?? [];
    this.pending = null;
    for (const message of waiting) if (message.type === 'event') this.apply(message);
  }

  /** A follower whose leader says nothing (it froze, or no leader yet) shows stale, like a silent stream. */
  private watchLeader(): void {
    if (this.role !== 'follower' || !this.lastHello) return;
    const silentMs = Date.now() - this.lastHeardAt;
    if (this.leaderState.kind === 'live' && silentMs > STALE_FACTOR * this.lastHello.interval) {
      this.options.onState({ kind: 'stale', silentMs });
    }
  }
}
