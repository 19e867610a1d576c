import type { HistoryResponse } from '../server/protocol.js';
import type { Board } from './board.js';
import { LONGEST_WINDOW_MS } from './board.js';
import { formatMoment } from './format.js';
import { saveRange, type WindowLabel, windowMs } from './preferences.js';
import type { Toolbar } from './ui/toolbar.js';

/** Performance marks around each range: asked for, and drawn in every chart (the bench's query + first paint). */
export const RANGE_REQUESTED_MARK = 'pulseboard:range-requested';
export const RANGE_DRAWN_MARK = 'pulseboard:range-drawn';

/**
 * A window that ends now is fetched again every step of its rows, within these bounds: the stream extends
 * its live edge sample by sample, but its rows would otherwise stay those of the first answer (its start
 * left behind, its newest buckets not merged, and after an hour its oldest rows pushed out of the charts'
 * stores by the live samples).
 */
const REFRESH_MIN_MS = 60_000;
const REFRESH_MAX_MS = 30 * 60_000;

/** Topics the charts draw; the others (filesystem, processes) have no chart over time. */
const CHARTED = ['cpu', 'memory', 'network', 'disk', 'temperature', 'process', 'requests'];

/**
 * How old an early answer of a window that ends now may be when the charts take it: the stream's samples
 * join a range's live edge only once it is shown, so those of the wait are not drawn (seconds, against rows
 * a minute or more apart in every window longer than the live hour).
 */
const EARLY_FOLLOW_MS = 10_000;

/** The first range, asked at the page's start before the charts exist (`askEarly`). */
interface EarlyRequest {
  from: number;
  to: number;
  follow: boolean;
  points: number;
  controller: AbortController;
  answer: Promise<HistoryResponse>;
}

/** What became of the early request: taken by the first range shown, dropped (it asked for other rows), or none asked. */
export type EarlyOutcome = 'none' | 'pending' | 'taken' | 'dropped';

/**
 * Where in time the charts are: the live window (up to an hour, from the page's own samples), a longer
 * window that ends now (from `/api/history`, its live edge extended by the stream), or a fixed range of
 * the past (dragged out on a chart, moved back and forward, or opened from `?from=&to=`). Every chart
 * shows the same one.
 */
export class RangeNavigator {
  private window: WindowLabel;
  /** The range shown when not live; `follow` when it ends now. */
  private range: { from: number; to: number; follow: boolean } | null = null;
  private request: AbortController | null = null;
  private refresh: ReturnType<typeof setTimeout> | undefined;
  private early: EarlyRequest | null = null;
  earlyOutcome: EarlyOutcome = 'none';

  constructor(
    private readonly board: Board,
    private readonly toolbar: Toolbar,
    private readonly host: string | null,
    initial: WindowLabel,
  ) {
    this.window = initial;
  }

  /**
   * At the page's start, while the stream connects: the range the first hello will show (`range`, else the
   * window when longer than the live hour) asked for at once, so the server answers while the page waits for
   * the hello and builds its charts. `points` is what the charts asked for last time at this viewport (null:
   * not known, nothing asked); the first load takes the answer only if it wants exactly those rows.
   */
  askEarly(range: { from: number; to: number } | null, points: number | null): void {
    if (points === null) return;
    const now = Date.now();
    const ms = windowMs(this.window);
    if (!range && ms <= LONGEST_WINDOW_MS) return;
    const { from, to, follow } = range
      ? { from: range.from, to: Math.min(range.to, now), follow: false }
      : { from: now - ms, to: now, follow: true };
    if (to - from < 1000) return;
    const controller = new AbortController();
    markRequested();
    const answer = fetchHistory(this.query(from, to, points), controller.signal);
    // Not awaited until the first load takes it, and never if dropped: its failure is that load's to report.
    answer.catch(() => {});
    this.early = { from, to, follow, points, controller, answer };
    this.earlyOutcome = 'pending';
  }

  /** A window button: up to an hour live from the page's store, longer from the durable history. */
  showWindow(label: WindowLabel): void {
    this.window = label;
    const ms = windowMs(label);
    this.toolbar.setWindow(label);
    saveRange(null);
    if (ms <= LONGEST_WINDOW_MS) {
      this.range = null;
      this.request?.abort();
      this.dropEarly();
      clearTimeout(this.refresh);
      this.board.showLive();
      this.board.setWindow(ms);
      this.toolbar.setLive(true);
      return;
    }
    const now = Date.now();
    void this.load(now - ms, now, true);
  }

  /** A fixed range of the past (a drag, `?from=&to=`). */
  showRange(from: number, to: number): void {
    const now = Date.now();
    const end = Math.min(to, now);
    if (end - from < 1000) return;
    this.toolbar.clearWindow();
    saveRange({ from: Math.round(from), to: Math.round(end) });
    void this.load(from, end, false);
  }

  /** Back or forward by half the range shown; forward stops at now. */
  shift(direction: -1 | 1): void {
    const now = Date.now();
    const { from, to } = this.range ?? { from: now - windowMs(this.window), to: now };
    const width = to - from;
    let start = from + (direction * width) / 2;
    if (start + width > now) start = now - width;
    this.showRange(start, start + width);
  }

  /** One click back to live: the last window chosen, following the stream. */
  live(): void {
    this.showWindow(this.window);
  }

  /** `again`: the window that ends now fetched anew (no "loading" line, no marks: what is shown stays until the answer). */
  private async load(from: number, to: number, follow: boolean, again = false): Promise<void> {
    this.request?.abort();
    clearTimeout(this.refresh);
    const points = this.board.pointsWanted();
    const early = this.takeEarly(from, to, follow, points);
    if (early) ({ from, to } = early);
    const request = early?.controller ?? new AbortController();
    this.request = request;
    this.range = { from, to, follow };
    if (!again) this.toolbar.setLive(follow, `loading ${formatMoment(from)} – ${follow ? 'now' : formatMoment(to)}…`);
    if (!again) {
      this.board.expectRange();
      // An early request's mark is its own, set when it was asked.
      if (!early) markRequested();
    }
    try {
      const body = await (early?.answer ?? fetchHistory(this.query(from, to, points), request.signal));
      if (this.request !== request) return;
      this.board.showRange(body, from, to, follow);
      // Drawn means drawn: in the chart worker, once every chart has answered for its frame.
      if (!again) void this.board.settled().then(() => this.request === request && performance.mark(RANGE_DRAWN_MARK));
      if (follow) this.refreshAfter(Math.min(REFRESH_MAX_MS, Math.max(REFRESH_MIN_MS, body.step)), to - from);
      const rows =
        body.tier !== 'raw'
          ? ` · ${body.tier} rows every ${describeStep(body.step)}`
          : body.bands
            ? ` · samples merged every ${describeStep(body.step)}`
            : ' · every sample';
      this.toolbar.setLive(follow, `${formatMoment(from)} – ${follow ? 'now' : formatMoment(to)}${rows}`);
    } catch (error) {
      if (request.signal.aborted) return;
      this.board.stopWaiting();
      this.toolbar.setLive(follow, `history unavailable: ${(error as Error).message}`);
      // A window that ends now tries again; a fixed range waits for the user.
      if (follow) this.refreshAfter(REFRESH_MIN_MS, to - from);
    }
  }

  /** The early request if it asked for what this load wants (a window that ends now: as wide, and recent); dropped otherwise. */
  private takeEarly(from: number, to: number, follow: boolean, points: number): EarlyRequest | null {
    const early = this.early;
    if (!early) return null;
    const same =
      early.follow === follow &&
      early.points === points &&
      (follow ? early.to - early.from === to - from && to - early.to <= EARLY_FOLLOW_MS : early.from === from && early.to === to);
    if (!same) {
      this.dropEarly();
      return null;
    }
    this.early = null;
    this.earlyOutcome = 'taken';
    return early;
  }

  /** No range will take the early request (another was chosen): its answer is not waited for, nor kept. */
  private dropEarly(): void {
    if (!this.early) return;
    this.early.controller.abort();
    this.early = null;
    this.earlyOutcome = 'dropped';
  }

  private query(from: number, to: number, points: number): URLSearchParams {
    const params = new URLSearchParams({
      topics: CHARTED.join(','),
      from: String(Math.round(from)),
      to: String(Math.round(to)),
      points: String(points),
    });
    if (this.host !== null) params.set('host', this.host);
    return params;
  }

  /** The window that ends now, `width` wide, fetched again after `delayMs` (unless another range was chosen meanwhile). */
  private refreshAfter(delayMs: number, width: number): void {
    clearTimeout(this.refresh);
    this.refresh = setTimeout(() => {
      if (!this.range?.follow) return;
      const now = Date.now();
      void this.load(now - width, now, true, true);
    }, delayMs);
  }
}

async function fetchHistory(query: URLSearchParams, signal: AbortSignal): Promise<HistoryResponse> {
  const response = await fetch(`api/history?${query}`, { signal });
  const body = (await response.json()) as HistoryResponse | { error?: string };
  if (!response.ok || !('series' in body)) throw new Error(('error' in body && body.error) || `HTTP ${response.status}`);
  return body;
}

function markRequested(): void {
  performance.clearMarks(RANGE_REQUESTED_MARK);
  performance.clearMarks(RANGE_DRAWN_MARK);
  performance.mark(RANGE_REQUESTED_MARK);
}

function describeStep(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
