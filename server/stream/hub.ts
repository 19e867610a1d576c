import { randomBytes } from 'node:crypto';
import { type EventName, type LoggedEventName, type PayloadOf, TOPICS, type Topic } from '../protocol.js';
import { formatEventId, frameJsonEvent } from './sse.js';

export interface LogEntry<E extends LoggedEventName = LoggedEventName> {
  seq: number;
  event: E;
  data: PayloadOf<E>;
  /** Sample time (the payload's `t`), ms since epoch. */
  t: number;
  /** The whole SSE frame, encoded once (when first asked for) and written as is to every subscriber. */
  readonly bytes: Buffer;
}

/**
 * A log entry whose frame becomes bytes when a subscriber or a replay first needs them: with no stream open
 * (an idle server) no sample is ever encoded. The frame's text is made at publish time, so a payload changed
 * later cannot change what is sent.
 */
class Entry<E extends LoggedEventName> implements LogEntry<E> {
  private frame: string | null;
  private encoded: Buffer | null = null;

  constructor(
    readonly seq: number,
    readonly event: E,
    readonly data: PayloadOf<E>,
    readonly t: number,
    frame: string,
  ) {
    this.frame = frame;
  }

  get bytes(): Buffer {
    if (this.encoded === null) {
      this.encoded = Buffer.from(this.frame as string);
      this.frame = null;
    }
    return this.encoded;
  }
}

export interface Subscriber {
  wants(event: LoggedEventName): boolean;
  /** Writes the bytes; the subscriber drops itself when its socket cannot keep up. */
  send(bytes: Buffer): void;
}

export interface HubOptions {
  /** Most events kept; the oldest are dropped first. */
  capacity: number;
  /** Events older than this (by sample time) are dropped too. */
  maxAgeMs: number;
  bootId?: string;
  /** Seq of the first event published (a mirror of another process's log starts where that log is). */
  firstSeq?: number;
}

export function newBootId(): string {
  // Time prefix keeps ids of later boots sortable by eye; the random part makes them unique.
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/**
 * The event log: a ring buffer of encoded events with consecutive sequence numbers, so an id maps to a
 * slot in O(1), plus fan-out of each new event's bytes to the subscribers that want it.
 *
 * Fan-out waits for the end of the current turn of the event loop: the collectors of one tick publish in
 * the same turn, and each subscriber then gets them in one write (one syscall) instead of one per event.
 * At 10 000 clients the writes are most of the server's CPU; see the bench.
 */
export class Hub {
  readonly bootId: string;
  private readonly ring: (LogEntry | undefined)[];
  private readonly maxAgeMs: number;
  private head = 0;
  private size = 0;
  private nextSeq = 1;
  private readonly latestByTopic = new Map<Topic, LogEntry>();
  /** Each subscriber with the seq it already has: events up to it were in its handshake. */
  private readonly subscribers = new Map<Subscriber, number>();
  /** Published in this turn, not yet fanned out. */
  private pending: LogEntry[] = [];

  constructor(options: HubOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new Error('hub capacity must be a positive integer');
    this.ring = new Array(options.capacity);
    this.maxAgeMs = options.maxAgeMs;
    this.bootId = options.bootId ?? newBootId();
    this.nextSeq = options.firstSeq ?? 1;
  }

  get capacity(): number {
    return this.ring.length;
  }

  /** Seq of the oldest event still held; lastSeq + 1 when the log is empty. */
  get firstSeq(): number {
    return this.nextSeq - this.size;
  }

  /** Seq of the newest event, 0 before the first. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get length(): number {
    return this.size;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** `json`: the payload's JSON.stringify when the caller has it already. */
  publish<E extends LoggedEventName>(event: E, data: PayloadOf<E>, json?: string): LogEntry<E> {
    const seq = this.nextSeq++;
    const t = (data as { t: number }).t;
    const entry: LogEntry<E> = new Entry(
      seq,
      event,
      data,
      t,
      frameJsonEvent(event, formatEventId(this.bootId, seq), json ?? JSON.stringify(data)),
    );
    this.append(entry as unknown as LogEntry);
    this.dropOlderThan(t - this.maxAgeMs);
    if (isTopicEvent(event)) this.latestByTopic.set(event, entry as unknown as LogEntry);
    // With no subscriber there is nothing to fan out: one that subscribes later gets this event in its handshake.
    if (this.subscribers.size === 0) return entry;
    if (this.pending.length === 0) setImmediate(() => this.fanOutPending());
    this.pending.push(entry as unknown as LogEntry);
    return entry;
  }

  /** Writes bytes that are not part of the log (heartbeat comments) to every subscriber. */
  broadcast(bytes: Buffer): void {
    this.fanOutPending();
    for (const subscriber of this.subscribers.keys()) subscriber.send(bytes);
  }

  /**
   * From now on the subscriber gets every event it wants. Call it right after sending the subscriber
   * what the log held (its handshake), in the same turn: it will not get those events twice.
   */
  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.set(subscriber, this.lastSeq);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  /**
   * Sends the pending events: each subscriber gets the ones it wants and does not have, in one write.
   * Subscribers that want the same events get the same Buffer, concatenated once.
   */
  private fanOutPending(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const lastSeq = (batch[batch.length - 1] as LogEntry).seq;
    const framesBySelection = new Map<string, Buffer>();
    for (const [subscriber, hasUpTo] of this.subscribers) {
      this.subscribers.set(subscriber, lastSeq);
      let selection = '';
      for (const entry of batch) selection += entry.seq > hasUpTo && subscriber.wants(entry.event) ? '1' : '0';
      let frames = framesBySelection.get(selection);
      if (!frames) {
        const chosen = batch.filter((_, i) => selection[i] === '1');
        frames = chosen.length === 1 ? (chosen[0] as LogEntry).bytes : Buffer.concat(chosen.map((entry) => entry.bytes));
        framesBySelection.set(selection, frames);
      }
      if (frames.length > 0) subscriber.send(frames);
    }
  }

  /** Every event after `seq`, oldest first; null when `seq` is not a point this log can resume from. */
  entriesAfter(seq: number): LogEntry[] | null {
    if (!Number.isSafeInteger(seq) || seq < this.firstSeq - 1 || seq > this.lastSeq) return null;
    const result: LogEntry[] = [];
    for (let s = seq + 1; s <= this.lastSeq; s++) result.push(this.at(s));
    return result;
  }

  /** Events of the given names with sample time >= `since`, oldest first. */
  entriesSince(since: number, wants: (event: LoggedEventName) => boolean): LogEntry[] {
    const result: LogEntry[] = [];
    for (let s = this.firstSeq; s <= this.lastSeq; s++) {
      const entry = this.at(s);
      if (entry.t >= since && wants(entry.event)) result.push(entry);
    }
    return result;
  }

  latest<T extends Topic>(topic: T): LogEntry<T> | undefined {
    return this.latestByTopic.get(topic) as LogEntry<T> | undefined;
  }

  private at(seq: number): LogEntry {
    const offset = seq - this.firstSeq;
    return this.ring[(this.head + offset) % this.ring.length] as LogEntry;
  }

  private append(entry: LogEntry): void {
    if (this.size === this.ring.length) this.dropOldest();
    this.ring[(this.head + this.size) % this.ring.length] = entry;
    this.size++;
  }

  private dropOldest(): void {
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
  }

  private dropOlderThan(cutoff: number): void {
    while (this.size > 0 && (this.ring[this.head] as LogEntry).t < cutoff) this.dropOldest();
  }
}

const TOPIC_EVENTS: ReadonlySet<EventName> = new Set<EventName>(TOPICS);

export function isTopicEvent(event: EventName): event is Topic {
  return TOPIC_EVENTS.has(event);
}
