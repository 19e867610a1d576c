import type {
  AlertHistoryResponse,
  AlertPayload,
  CollectorHealth,
  FleetStatus,
  HelloMode,
  HelloPayload,
  HistoryResponse,
  LoggedEventName,
  PayloadOf,
  SilencePayload,
  Topic,
} from '../protocol.js';
import type { Hub } from './hub.js';
import type { StreamLimits } from './limits.js';
import type { OlderRows, StreamService } from './service.js';

/** One host's dashboard: its event log and streams. A local monitor is one; a fleet hub holds one per host. */
export interface Board {
  /** The host's name as the fleet knows it (its hostname when standalone). */
  readonly name: string;
  readonly hub: Hub;
  readonly streams: StreamService;
  readonly version: string;
  /** Topics this host samples, in protocol order. */
  readonly topics: Topic[];
  /** ms between the host's samples. */
  readonly interval: number;
  health(): CollectorHealth[];
  activeAlerts(): AlertPayload[];
  hello(topics: Topic[], mode: HelloMode): HelloPayload;
  /** Durable history, where the board keeps it (a local monitor). */
  readonly history?: BoardHistory;
  /** Silences, alert history and channel tests, where the board runs the rules (a local monitor). */
  readonly alerting?: AlertControl;
}

/** What the alert routes ask of a board that runs its own rules. */
export interface AlertControl {
  hasRule(rule: string): boolean;
  /** Silences a rule until `until` (ms since epoch), or lifts its silence (null); the change is logged as a `silence` event. */
  silence(rule: string, until: number | null): SilencePayload;
  /** The alert changes in [from, to] and the spans a rule fired that overlap it. */
  history(from: number, to: number): AlertHistoryResponse;
  channelNames(): string[];
  /** Queues a test message on the channel; false when there is none of that name. */
  testChannel(name: string): boolean;
}

/** What a board's durable history answers: ranges in tiers, and samples older than the log holds. */
export interface BoardHistory {
  range(query: { topics: readonly Topic[]; from: number; to: number; points: number }, now: number): HistoryRange;
  older: OlderRows;
}

export type HistoryRange = Pick<HistoryResponse, 'tier' | 'step' | 'series' | 'bands'>;

/** A board, or why there is none: a bad name (400), an unknown host (404), a fleet host whose data in Redis is invalid (502). */
export type BoardLookup = { ok: true; board: Board } | { ok: false; status: 400 | 404 | 502; error: string };

/** What the HTTP layer serves from: one board (standalone) or every host of a fleet (hub mode). */
export interface Boards {
  /** The board `?host=` names; standalone servers take no `host`. */
  board(host: string | undefined): BoardLookup;
  all(): Board[];
  readonly streamLimits: StreamLimits;
  readonly maxClientBufferBytes: number;
  /** The body of `/healthz`. */
  status(): Record<string, unknown>;
  /** The fleet overview (`/api/fleet`); absent on a standalone server. */
  fleet?(): FleetStatus;
}

/** What serves boards without being them: a local monitor hands out its one board this way. */
export interface BoardsSource {
  asBoards(): Boards;
}

/** A `requests` tick's latency histogram: its occupied buckets (values in µs, ascending) and their counts. */
export interface TickBuckets {
  v: number[];
  c: number[];
}

/**
 * Receives every event a board logs, as data (a fleet agent forwards them to Redis), and with a `requests`
 * sample the latency buckets of its tick, when it had requests: what coarse history merges into percentiles.
 */
export type EventListener = <E extends LoggedEventName>(event: E, data: PayloadOf<E>, buckets?: TickBuckets) => void;

/** A board whose events can be followed as they are logged: a local monitor. */
export interface LiveBoard extends Board {
  onEvent(listener: EventListener): void;
}
