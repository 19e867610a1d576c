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

/**
 * A live window's fill that failed is asked again after these delays, the last one repeated: a wall screen
 * left open fills once the server answers again, rather than showing the backfill's minutes until the page
 * has been open for the whole window. The charts do not wait for a retry: they draw what is held meanwhile.
 */
const FILL_RETRY_MS = [5_000, 15_000, 60_000];

/** Topics the charts draw; the others (filesystem, processes) have no chart over time. */
const CHARTED = ['cpu', 'memory', 'network', 'disk', 'temperature', 'process', 'requests'];

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
  private fillRetry: ReturnType<typeof setTimeout> | undefined;
  private fillFailures = 0;

  constructor(
    private readonly board: Board,
    private readonly toolbar: Toolbar,
    private readonly host: string | null,
    initial: WindowLabel,
  ) {
    this.window = initial;
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
      clearTimeout(this.refresh);
      this.stopFillRetries();
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

  /**
   * The samples of a live window from `since` that the page does not hold (a backfill brings minutes, the
   * window may be an hour): asked for, and put in front of what the page holds.
   */
  async fillLive(since: number): Promise<void> {
    // A longer window or a range of the past is shown or on its way (its refresh may be pending): no live fill.
    if (this.range) {
      this.board.stopWaitingOlder();
      return;
    }
    this.request?.abort();
    clearTimeout(this.fillRetry);
    const request = new AbortController();
    this.request = request;
    // From a whole minute: pages opened within the same second (a wall of screens reloading) ask the same, and
    // the server builds that answer once.
    const query = new URLSearchParams({ topics: CHARTED.join(','), since: String(Math.floor(since / 60_000) * 60_000) });
    if (this.host !== null) query.set('host', this.host);
    try {
      const body = await fetchHistory(query, request.signal);
      if (this.request !== request) return;
      this.board.applyOlder(body.series, body.since);
      this.forgetFillFailure();
    } catch (error) {
      if (request.signal.aborted) return;
      this.board.stopWaitingOlder();
      this.toolbar.setLive(true, `history unavailable: ${(error as Error).message}`);
      this.retryFill();
    }
  }

  /**
   * Asks again, later, for what the live window still lacks then. Nothing lacking (the window was narrowed, or
   * the stream's samples now cover it): the failure no longer matters, and the bar stops saying it.
   */
  private retryFill(): void {
    const delay = FILL_RETRY_MS[Math.min(this.fillFailures, FILL_RETRY_MS.length - 1)] as number;
    this.fillFailures++;
    this.fillRetry = setTimeout(() => {
      const since = this.board.olderWanted();
      if (since !== null) void this.fillLive(since);
      else this.forgetFillFailure();
    }, delay);
  }

  /** The fill succeeded, or is no longer needed: what the bar said of a failure is taken back. */
  private forgetFillFailure(): void {
    if (this.fillFailures > 0) this.toolbar.setLive(true);
    this.fillFailures = 0;
  }

  /** A window or range chosen: the retries of an earlier fill stop, and a new failure starts at the first delay. */
  private stopFillRetries(): void {
    clearTimeout(this.fillRetry);
    this.fillFailures = 0;
  }

  /** One click back to live: the last window chosen, following the stream. */
  live(): void {
    this.showWindow(this.window);
  }

  /** `again`: the window that ends now fetched anew (no "loading" line, no marks: what is shown stays until the answer). */
  private async load(from: number, to: number, follow: boolean, again = false): Promise<void> {
    this.request?.abort();
    clearTimeout(this.refresh);
    this.stopFillRetries();
    const request = new AbortController();
    this.request = request;
    this.range = { from, to, follow };
    if (!again) this.toolbar.setLive(follow, `loading ${formatMoment(from)} – ${follow ? 'now' : formatMoment(to)}…`);
    const params = new URLSearchParams({
      topics: CHARTED.join(','),
      from: String(Math.round(from)),
      to: String(Math.round(to)),
      points: String(this.board.pointsWanted()),
    });
    if (this.host !== null) params.set('host', this.host);
    if (!again) {
      this.board.expectRange();
      performance.clearMarks(RANGE_REQUESTED_MARK);
      performance.clearMarks(RANGE_DRAWN_MARK);
      performance.mark(RANGE_REQUESTED_MARK);
    }
    try {
      const body = await fetchHistory(params, request.signal);
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

function describeStep(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
