import type { AlertPayload, BackfillPayload, EventName, HelloMode, HelloPayload, SilencePayload, Topic } from '../protocol.js';
import { toColumns } from './columns.js';
import type { Hub, LogEntry } from './hub.js';
import type { SseSink } from './sink.js';
import { encodeEvent, formatEventId, frameRetry, parseEventId } from './sse.js';
import type { TopicWatchers } from './watchers.js';

export interface StreamRequest {
  /** Topics the client asked for, already validated. */
  topics: readonly Topic[];
  /** From the `Last-Event-ID` header, or the `lastEventId` query parameter; any string. */
  lastEventId: string | null;
}

export interface StreamServiceOptions {
  hub: Hub;
  retryMs: number;
  backfillMs: number;
  hello: (topics: Topic[], mode: HelloMode) => HelloPayload;
  /** Alerts firing now: part of every backfill. */
  activeAlerts: () => AlertPayload[];
  /** Silences not yet over: part of every backfill, where the board has them. */
  activeSilences?: () => SilencePayload[];
  /** Samples older than the log holds (durable history): a backfill after a restart still has them. */
  olderRows?: OlderRows;
  /** Told which topics each open stream wants. */
  watchers?: TopicWatchers;
  now?: () => number;
}

/** A topic filter, shared by every stream that asked for the same topics. */
interface Selection {
  /** The topics, once each, sorted. */
  topics: readonly Topic[];
  wants: (event: EventName) => boolean;
}

/** Events every stream gets, whatever its topic filter. */
const ALWAYS_SENT: readonly EventName[] = ['health', 'alert', 'silence'];

/**
 * Opens SSE streams: the handshake (retry, hello, then a backfill or the exact missed events) and the
 * live subscription. The handshake and the subscribe happen in one synchronous step, so no event can
 * fall between them or arrive twice.
 */
export class StreamService {
  private readonly open = new Set<SseSink>();
  private backfillCache = { lastSeq: -1, byKey: new Map<string, Buffer>() };
  /**
   * One filter per topic selection, shared by the streams that asked for it: a Set per stream cost each
   * client ~0.5 KiB (a heap snapshot of 2 000 clients). At most one per subset of the board's topics.
   */
  private readonly selections = new Map<string, Selection>();
  private readonly now: () => number;

  constructor(private readonly options: StreamServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  get count(): number {
    return this.open.size;
  }

  start(sink: SseSink, request: StreamRequest): void {
    const { hub } = this.options;
    const { topics, wants } = this.selectionOf(request.topics);

    const last = parseEventId(request.lastEventId);
    const missed = last && last.bootId === hub.bootId ? boundedReplay(hub.entriesAfter(last.seq)) : null;
    const mode: HelloMode = missed ? 'resume' : last ? 'reset' : 'fresh';

    const handshake: Buffer[] = [
      Buffer.from(frameRetry(this.options.retryMs)),
      encodeEvent('hello', this.options.hello([...request.topics], mode)),
    ];
    if (missed) {
      for (const entry of missed) if (wants(entry.event)) handshake.push(entry.bytes);
    } else {
      handshake.push(this.backfill(request.topics, mode === 'reset'));
    }
    if (!sink.begin(Buffer.concat(handshake))) return;

    const unsubscribe = hub.subscribe({
      wants,
      send: (bytes) => {
        if (!sink.write(bytes)) unsubscribe();
      },
    });
    this.open.add(sink);
    const unwatch = this.options.watchers?.add(topics);
    sink.onClose(() => {
      unsubscribe();
      unwatch?.();
      this.open.delete(sink);
    });
  }

  private selectionOf(requested: readonly Topic[]): Selection {
    const topics = [...new Set(requested)].sort();
    const key = topics.join(',');
    let selection = this.selections.get(key);
    if (!selection) {
      const wanted = new Set<EventName>([...topics, ...ALWAYS_SENT]);
      selection = { topics, wants: (event) => wanted.has(event) };
      this.selections.set(key, selection);
    }
    return selection;
  }

  /** Ends every open stream (shutdown). Clients reconnect to the next server and see its new boot id. */
  endAll(): void {
    for (const sink of [...this.open]) sink.end();
  }

  /** One encoded backfill per (topics, reset) and log position: a wall of screens reconnecting shares it. */
  private backfill(topics: readonly Topic[], reset: boolean): Buffer {
    const { hub } = this.options;
    if (this.backfillCache.lastSeq !== hub.lastSeq) this.backfillCache = { lastSeq: hub.lastSeq, byKey: new Map() };
    const key = `${reset}|${topics.join(',')}`;
    let bytes = this.backfillCache.byKey.get(key);
    if (!bytes) {
      bytes = encodeEvent(
        'backfill',
        {
          reset,
          lastSeq: hub.lastSeq,
          series: seriesSince(hub, topics, this.now() - this.options.backfillMs, this.options.olderRows),
          alerts: this.options.activeAlerts(),
          ...(this.options.activeSilences ? { silences: this.options.activeSilences() } : {}),
        },
        formatEventId(hub.bootId, hub.lastSeq),
      );
      this.backfillCache.byKey.set(key, bytes);
    }
    return bytes;
  }
}

/** Past this, a resume is answered with a reset and a backfill: cheaper for both ends than the replay. */
const MAX_REPLAY_BYTES = 16 * 1024 * 1024;

function boundedReplay(entries: LogEntry[] | null): LogEntry[] | null {
  if (!entries) return null;
  let bytes = 0;
  for (const entry of entries) bytes += entry.bytes.length;
  return bytes <= MAX_REPLAY_BYTES ? entries : null;
}

/**
 * Lists the page shows only as of now (the route table, the interface list) are kept on the newest row
 * alone: on every row they would make a 5-minute backfill of a busy app weigh half a megabyte.
 */
const LATEST_ONLY: Partial<Record<Topic, string>> = { requests: 'routes', network: 'interfaces', processes: 'top', containers: 'top' };

function latestOnly(topic: Topic, columns: Record<string, unknown[]>): Record<string, unknown[]> {
  const field = LATEST_ONLY[topic];
  const values = field ? columns[field] : undefined;
  if (field && values) columns[field] = values.map((value, i) => (i === values.length - 1 ? value : []));
  return columns;
}

/** Samples of a topic with time in [since, before), oldest first, from somewhere other than the log. */
export type OlderRows = (topic: Topic, since: number, before: number) => ({ t: number } & object)[];

/** Columnar history per topic from the log (and, before its oldest event, `older` rows), for the backfill and `/api/history`. */
export function seriesSince(hub: Hub, topics: readonly Topic[], since: number, older?: OlderRows): BackfillPayload['series'] {
  const wanted = new Set<EventName>(topics);
  const rows = new Map<Topic, object[]>();
  for (const entry of hub.entriesSince(since, (event) => wanted.has(event))) {
    const topic = entry.event as Topic;
    const list = rows.get(topic) ?? [];
    if (list.length === 0) rows.set(topic, list);
    list.push((entry as LogEntry<Topic>).data);
  }
  if (older) {
    for (const topic of topics) {
      const list = rows.get(topic) ?? [];
      const before = (list[0] as { t: number } | undefined)?.t ?? Number.POSITIVE_INFINITY;
      const earlier = older(topic, since, before);
      if (earlier.length > 0) rows.set(topic, [...earlier, ...list]);
    }
  }
  const series: Record<string, unknown> = {};
  for (const [topic, list] of rows) series[topic] = latestOnly(topic, toColumns(list) as Record<string, unknown[]>);
  return series as BackfillPayload['series'];
}
