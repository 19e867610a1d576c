import type {
  BackfillPayload,
  CollectorHealth,
  HelloPayload,
  HistoryResponse,
  HistoryTier,
  SampleByTopic,
  Thresholds,
  Topic,
} from '../server/protocol.js';
import type { ChartSnapshot } from './charts/chart-frame.js';
import type { FiringSpan, RangeView, TimeChart, ZoomHandler } from './charts/time-chart.js';
import { OnScreen } from './on-screen.js';
import { containersPanel } from './panels/containers.js';
import { cpuPanel } from './panels/cpu.js';
import { diskPanel } from './panels/disk.js';
import { filesystemPanel } from './panels/filesystem.js';
import { memoryPanel } from './panels/memory.js';
import { networkPanel } from './panels/network.js';
import { processPanel } from './panels/process.js';
import { processesPanel } from './panels/processes.js';
import { requestsPanel } from './panels/requests.js';
import { temperaturePanel } from './panels/temperature.js';
import { lastRowOf, recordColumns, recordSample, storeOfSeries } from './record.js';
import { capacityFor, SeriesStore } from './store.js';
import type { PanelContext, TopicPanel } from './ui/panel.js';

const PANELS: { [T in Topic]: (context: PanelContext) => TopicPanel<T> } = {
  cpu: cpuPanel,
  memory: memoryPanel,
  network: networkPanel,
  disk: diskPanel,
  filesystem: filesystemPanel,
  temperature: temperaturePanel,
  process: processPanel,
  processes: processesPanel,
  containers: containersPanel,
  requests: requestsPanel,
};

/** Every topic of the protocol: PANELS is a mapped type over `Topic`, so it lists each one, and only those. */
export const TOPICS = Object.keys(PANELS) as Topic[];

/** The longest window the page offers; the store is sized for it. */
export const LONGEST_WINDOW_MS = 3_600_000;
export const DEFAULT_WINDOW_MS = 300_000;
/** Charts spanning minutes gain nothing from more than four updates a second. */
export const MIN_DRAW_GAP_MS = 250;
/**
 * A performance mark set each time a backfill has been drawn in every chart (the bench's first full paint); for a
 * live window longer than the backfill, once the older samples asked for are drawn with it, on the first picture.
 */
export const BACKFILL_DRAWN_MARK = 'pulseboard:backfill-drawn';

/**
 * The panels and the series behind them. Samples always go into the store; charts take them in at most
 * every MIN_DRAW_GAP_MS, draw them at most once per pixel column's time (`charts/redraw-gate.ts`), and not
 * at all while the tab is hidden (they redraw once on return).
 */
export class Board {
  private store = new SeriesStore(capacityFor(LONGEST_WINDOW_MS, 1000));
  private panels = new Map<Topic, TopicPanel>();
  private topicsKey = '';
  private pending = false;
  private staleCharts = false;
  /**
   * Set when the panels are built for a hello that a backfill follows: the charts wait for it instead of
   * drawing their empty store first (in the chart worker, a render of every chart before the first full paint).
   */
  private awaitingBackfill = false;
  /** Set while a range of history is on its way: the charts draw it, not the live window before it. */
  private awaitingRange = false;
  /**
   * Set while a live window's samples from before the backfill are on their way (`onOlder`): the charts draw
   * them with the rest, not the backfill's minutes alone first.
   */
  private awaitingOlder = false;
  /** The store holds every sample the server keeps since this time (-Infinity: all it keeps; Infinity: no backfill yet). */
  private heldSince = Number.POSITIVE_INFINITY;
  /** How much history a backfill brings, and how far back the server keeps samples (its hello's). */
  private backfillMs = 0;
  private reachMs = 0;
  private windowMs = DEFAULT_WINDOW_MS;
  private paused = false;
  private firing: () => readonly FiringSpan[] = () => [];
  private lastDrawAt = Number.NEGATIVE_INFINITY;
  /**
   * Counters for diagnostics, the soak test and the bench: samples taken in; chart updates (passes over the
   * charts for new samples) and their main-thread ms, catch-up passes' ms included; charts drawn in them.
   */
  readonly counters = { applied: 0, draws: 0, drawMs: 0, chartsDrawn: 0 };
  /** A pass for charts whose new points wait for their pixel column's time, when no sample comes first. */
  private catchUp: { at: number; timer: ReturnType<typeof setTimeout> } | null = null;
  private thresholds: Thresholds = {};
  private intervalMs = 1000;
  /** The span of history shown instead of the live window, with the tier and step it came in. */
  private range: { view: RangeView; tier: HistoryTier; step: number; rows: number } | null = null;
  private pictureDrawn = false;
  private resolvePicture: () => void = () => {};
  private readonly picture = new Promise<void>((resolve) => {
    this.resolvePicture = resolve;
  });

  /**
   * `onOlder(since)`: the live window reaches further back than the page holds; the samples from `since` are
   * wanted (answered with `applyOlder`, or `stopWaitingOlder`).
   */
  constructor(
    private readonly container: HTMLElement,
    private readonly onZoom: ZoomHandler = () => {},
    private readonly onOlder: (since: number) => void = () => {},
  ) {
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.redrawAll();
    });
  }

  /** Panels scrolled out of view are not drawn; one that comes back is redrawn from what the store holds. */
  private readonly onScreen = new OnScreen((root) => {
    if (this.paused || document.hidden || this.awaitingBackfill || this.awaitingOlder) return;
    let drew = false;
    for (const panel of this.panels.values()) {
      if (panel.panel.root !== root) continue;
      for (const chart of panel.panel.charts) {
        chart.reload(this.windowMs);
        chart.draw();
        drew = true;
      }
    }
    if (drew) this.noteDrawn();
  });

  /** Builds the panels for the topics this stream carries (again only if they or the interval change). */
  configure(hello: HelloPayload): void {
    this.thresholds = hello.thresholds;
    this.intervalMs = hello.interval;
    this.backfillMs = hello.backfillMs;
    // Raw samples on disk reach past any live window; in memory only, as far as the server's history.
    this.reachMs = hello.history?.dir ? Number.POSITIVE_INFINITY : hello.historyMs;
    const capacity = capacityFor(Math.min(LONGEST_WINDOW_MS, hello.historyMs), hello.interval);
    const key = `${hello.topics.join(',')}|${capacity}`;
    if (key === this.topicsKey) return;
    this.topicsKey = key;
    this.awaitingBackfill = hello.mode !== 'resume';
    for (const panel of this.panels.values()) {
      for (const chart of panel.panel.charts) chart.destroy();
      this.onScreen.forget(panel.panel.root);
    }
    this.panels.clear();
    this.container.replaceChildren();
    this.store = new SeriesStore(capacity);
    // A new store holds nothing: a backfill will say what it holds; a resume brings none, so from now.
    this.heldSince = hello.mode === 'resume' ? Date.now() : Number.POSITIVE_INFINITY;
    for (const topic of hello.topics) {
      const context: PanelContext = {
        store: this.store,
        windowMs: this.windowMs,
        thresholds: () => this.thresholds,
        onZoom: (from, to) => this.onZoom(from, to),
      };
      const panel = (PANELS[topic] as (context: PanelContext) => TopicPanel)(context);
      this.panels.set(topic, panel);
      this.container.append(panel.panel.root);
      this.onScreen.observe(panel.panel.root);
    }
    for (const chart of this.charts()) {
      chart.firing = this.firing;
      chart.setLiveGap(hello.interval);
      chart.showRange(this.range?.view ?? null);
      chart.freeze(this.paused);
    }
    this.showHealth(hello.collectors);
    if (hello.mode === 'resume') this.askOlder();
  }

  /** Replaces everything held with the backfill's history. */
  applyBackfill(backfill: BackfillPayload): void {
    this.awaitingBackfill = false;
    this.store.clear();
    for (const [topic, columns] of Object.entries(backfill.series) as [Topic, Record<string, unknown[]>][]) {
      recordColumns(this.store, topic, columns);
      const last = lastRowOf(columns);
      if (last) this.panels.get(topic)?.show(last as never);
    }
    this.heldSince = this.backfillMs >= this.reachMs ? Number.NEGATIVE_INFINITY : Date.now() - this.backfillMs;
    this.askOlder();
    this.redrawAll();
    this.markFirstPicture();
  }

  /** Drawn means drawn: in the chart worker that is when every chart has answered for its frame. */
  private markFirstPicture(): void {
    if (!this.staleCharts && !this.awaitingRange && !this.awaitingOlder)
      void this.settled().then(() => performance.mark(BACKFILL_DRAWN_MARK));
  }

  /**
   * Where the live window's samples the page does not hold begin, or null: it holds them, or no backfill has
   * said what it holds yet, or a range is shown or on its way.
   */
  olderWanted(): number | null {
    const now = Date.now();
    // No further back than the store's rings hold (20 000 points: 33 minutes at 100 ms).
    const since = Math.max(now - this.windowMs, now - (this.store.capacity - 1) * this.intervalMs);
    // A few intervals' slack: the backfill's start is the server's clock, the window's the page's.
    const lacking =
      !this.range && !this.awaitingRange && this.heldSince !== Number.POSITIVE_INFINITY && since < this.heldSince - 3 * this.intervalMs;
    return lacking ? since : null;
  }

  /** Asks for the live window's samples the page does not hold (`olderWanted`); the charts wait for them. */
  private askOlder(): void {
    const since = this.olderWanted();
    this.awaitingOlder = since !== null;
    if (since !== null) this.onOlder(since);
  }

  /**
   * The samples from `since` (an answer of `/api/history?since=`): those older than the store's put in front.
   * Drawn at once, also when the charts no longer waited for them (a retry after a failed fill).
   */
  applyOlder(series: HistoryResponse['series'], since: number): void {
    this.store.prepend(storeOfSeries(series, this.store.capacity));
    this.heldSince = Math.min(this.heldSince, since);
    if (this.awaitingOlder) this.stopWaitingOlder();
    else this.redrawAll();
  }

  /** The older samples will not come: the charts draw what the store holds. */
  stopWaitingOlder(): void {
    if (!this.awaitingOlder) return;
    this.awaitingOlder = false;
    const first = !this.pictureDrawn;
    this.redrawAll();
    if (first) this.markFirstPicture();
  }

  applySample<T extends Topic>(topic: T, sample: SampleByTopic[T]): void {
    this.counters.applied++;
    recordSample(this.store, topic, sample);
    // A range that ends now keeps its live edge: the stream's samples join its rows.
    if (this.range?.view.follow) recordSample(this.range.view.mean, topic, sample);
    this.panels.get(topic)?.show(sample as never);
    this.scheduleDraw();
  }

  /**
   * Shows an answer of `/api/history` in every chart: its rows (and, for downsampled tiers, the min–max
   * bands), from `from` to `to`; `follow`: the range ends now and the stream extends it.
   */
  showRange(answer: HistoryResponse, from: number, to: number, follow: boolean): void {
    const rows = Math.max(0, ...Object.values(answer.series).map((columns) => (columns?.t as unknown[] | undefined)?.length ?? 0));
    const capacity = rows + (follow ? capacityFor(LONGEST_WINDOW_MS, this.intervalMs) : 0) + 1;
    const storeOf = (series: HistoryResponse['series']) => storeOfSeries(series, capacity);
    const view: RangeView = {
      mean: storeOf(answer.series),
      min: answer.bands ? storeOf(answer.bands.min) : null,
      max: answer.bands ? storeOf(answer.bands.max) : null,
      from,
      to,
      follow,
      // Rows further apart than two and a half steps: the server was down (or not sampling) between them.
      gapMs: 2.5 * Math.max(answer.step, answer.tier === 'raw' ? this.intervalMs : answer.step),
    };
    this.range = { view, tier: answer.tier, step: answer.step, rows };
    this.awaitingBackfill = false;
    this.awaitingRange = false;
    this.awaitingOlder = false;
    for (const chart of this.charts()) chart.showRange(view);
    this.redrawAll();
  }

  /** A range of history is asked for: the charts wait for it (`showRange`), or for `stopWaiting` if it fails. */
  expectRange(): void {
    this.awaitingRange = true;
    // A live window's older samples asked for are not waited for: the range is shown instead.
    this.awaitingOlder = false;
  }

  stopWaiting(): void {
    if (!this.awaitingRange) return;
    this.awaitingRange = false;
    this.redrawAll();
  }

  /** Back to the live window from the page's own store. */
  showLive(): void {
    this.range = null;
    this.awaitingRange = false;
    for (const chart of this.charts()) chart.showRange(null);
    this.redrawAll();
  }

  /** What the charts show: a range of history (its tier and step) or the live window. */
  shown(): { from: number; to: number; follow: boolean; tier: HistoryTier; step: number; rows: number } | null {
    const range = this.range;
    if (!range) return null;
    return { from: range.view.from, to: range.view.to, follow: range.view.follow, tier: range.tier, step: range.step, rows: range.rows };
  }

  /**
   * Rows to ask the server for: about two per pixel of the widest chart. Its frame's width, read from the page:
   * the plot area's is only known once drawn, which in the worker is a message later.
   */
  pointsWanted(): number {
    const width = Math.max(0, ...this.charts().map((chart) => chart.frameWidth));
    return Math.max(100, Math.min(10_000, Math.round(2 * (width || 600))));
  }

  /** Gaps drawn in the first chart (tests: downtime is a gap). */
  chartGaps(): [number, number][] {
    return this.charts()[0]?.gaps() ?? [];
  }

  /**
   * Resolves once the charts have drawn their first picture (the backfill, a range of history, or live
   * samples when neither came): what can wait until then (the alert timeline) does not compete with it.
   */
  firstPicture(): Promise<void> {
    return this.picture;
  }

  private noteDrawn(): void {
    if (this.pictureDrawn) return;
    this.pictureDrawn = true;
    void this.settled().then(this.resolvePicture);
  }

  /** Resolves once every chart has drawn every frame sent to it. */
  settled(): Promise<void> {
    return Promise.all(this.charts().map((chart) => chart.settled())).then(() => undefined);
  }

  /** Where each chart is drawn: 'worker' or 'main' (tests: the fallback where OffscreenCanvas is missing). */
  chartsDrawnIn(): ('worker' | 'main')[] {
    return this.charts().map((chart) => chart.drawnIn);
  }

  /** The datasets each chart's Chart.js holds, once drawn (tests: the worker draws what the main thread would). */
  async chartSnapshots(): Promise<ChartSnapshot[]> {
    await this.settled();
    return Promise.all(this.charts().map((chart) => chart.snapshot()));
  }

  /** One chart's snapshot (the charts in page order), without reading every other chart's. */
  async chartSnapshot(index: number): Promise<ChartSnapshot | null> {
    await this.settled();
    return (await this.charts()[index]?.snapshot()) ?? null;
  }

  /** The page x of time `t` in the first chart and its vertical middle, once drawn (tests drag across it). */
  async chartPointAt(t: number): Promise<{ x: number; y: number } | null> {
    const chart = this.charts()[0];
    const canvas = this.container.querySelector('canvas');
    if (!chart || !canvas) return null;
    await chart.settled();
    const box = canvas.getBoundingClientRect();
    return { x: box.left + chart.pixelAt(t), y: box.top + box.height / 2 };
  }

  /** Shows this much time in every chart, from what the store holds (and what it lacks of it, asked for: `askOlder`). */
  setWindow(windowMs: number): void {
    this.windowMs = windowMs;
    // A shorter window chosen while the first picture waited for older samples: this is the first picture.
    const first = this.awaitingOlder && !this.pictureDrawn;
    this.askOlder();
    this.redrawAll();
    if (first && !this.awaitingOlder) this.markFirstPicture();
  }

  /** Paused, samples keep going into the store but the charts hold still; resuming jumps to now. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    for (const chart of this.charts()) chart.freeze(paused);
    this.redrawAll();
  }

  /** Re-reads the theme's colours into every chart and draws. */
  recolor(): void {
    for (const chart of this.charts()) chart.applyColors();
    this.redrawAll();
  }

  /** Points each chart holds, all its lines together (tests). */
  chartPoints(): number[] {
    return this.charts().map((chart) => chart.pointCount);
  }

  /** The x range each chart shows as last drawn (tests: a chart shown again has caught up). */
  chartRanges(): { min: number; max: number }[] {
    return this.charts().map((chart) => chart.range());
  }

  /** The time one pixel column of each chart spans as last drawn, ms (tests: the redraw bound). */
  chartColumns(): number[] {
    return this.charts().map((chart) => chart.columnMs);
  }

  /** Draws of each chart so far (tests: a chart off the screen is not drawn). */
  chartDraws(): number[] {
    return this.charts().map((chart) => chart.drawCount);
  }

  chartBandPoints(): number[] {
    return this.charts().map((chart) => chart.bandPointCount);
  }

  chartColors(): string[] {
    return [...this.panels.values()].flatMap((panel) => panel.panel.charts.map((chart) => chart.lineColor));
  }

  /** When alerts fired: every chart draws them as bands. */
  showFiring(source: () => readonly FiringSpan[]): void {
    this.firing = source;
    for (const chart of this.charts()) chart.firing = source;
    this.redrawAll();
  }

  /** The x range the first chart shows (tests: window switches and pause). */
  visibleRange(): { min: number; max: number } | null {
    return this.charts()[0]?.range() ?? null;
  }

  showHealth(collectors: CollectorHealth[]): void {
    for (const panel of this.panels.values()) panel.panel.setHealth(collectors.find((h) => h.topic === panel.topic));
  }

  /** Sample times held for a series (tests and diagnostics: gaps and doubles show up here). */
  times(key: string): number[] {
    return (this.store.find(key)?.pointsSince(0) ?? []).map((point) => point.x);
  }

  /** Points held for a series such as `cpu.total` (tests and diagnostics). */
  points(key: string): number {
    return this.store.points(key);
  }

  private charts(): TimeChart[] {
    return [...this.panels.values()].flatMap((panel) => panel.panel.charts);
  }

  private scheduleDraw(): void {
    if (this.paused) return;
    if (document.hidden) {
      this.staleCharts = true;
      return;
    }
    if (this.pending) return;
    this.pending = true;
    // At most one chart update per MIN_DRAW_GAP_MS: a server sampling every 10 ms must not cost 60 redraws a second.
    const wait = Math.max(0, this.lastDrawAt + MIN_DRAW_GAP_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => this.drawNewPoints()), wait);
  }

  private drawNewPoints(): void {
    this.pending = false;
    // Samples without a backfill before them (a tab whose history could not be fetched): drawn as they come.
    this.awaitingBackfill = false;
    const started = performance.now();
    this.lastDrawAt = started;
    if (this.paused) return;
    if (this.staleCharts) {
      this.redrawAll();
      return;
    }
    if (!this.awaitingRange && !this.awaitingOlder) this.drawDue(started);
    this.counters.draws++;
    this.counters.drawMs += performance.now() - started;
  }

  /** Appends new points to every chart and draws those shown whose pixel column's time has passed. */
  private drawDue(now: number): void {
    let next = Number.POSITIVE_INFINITY;
    let drew = false;
    for (const panel of this.panels.values()) {
      const shown = this.onScreen.isShown(panel.panel.root);
      for (const chart of panel.panel.charts) {
        // Off screen the chart's window still moves on (cheap); only the drawing waits until it is shown.
        chart.append();
        if (!shown) continue;
        if (chart.drawIfDue(now)) {
          this.counters.chartsDrawn++;
          drew = true;
        }
        next = Math.min(next, chart.nextDrawAt() ?? Number.POSITIVE_INFINITY);
      }
    }
    if (drew) this.noteDrawn();
    if (Number.isFinite(next)) this.scheduleCatchUp(next);
  }

  /** Makes sure a pass runs at `at` (the page's clock): new points are drawn within a column's time even if the stream stops. */
  private scheduleCatchUp(at: number): void {
    if (this.catchUp && this.catchUp.at <= at) return;
    if (this.catchUp) clearTimeout(this.catchUp.timer);
    const timer = setTimeout(
      () =>
        requestAnimationFrame(() => {
          this.catchUp = null;
          if (this.paused || document.hidden || this.awaitingRange || this.awaitingOlder) return;
          const started = performance.now();
          this.drawDue(started);
          this.counters.drawMs += performance.now() - started;
        }),
      Math.max(0, at - performance.now()),
    );
    this.catchUp = { at, timer };
  }

  private redrawAll(): void {
    this.staleCharts = false;
    if (document.hidden) {
      this.staleCharts = true;
      return;
    }
    let drew = false;
    for (const panel of this.panels.values()) {
      const shown = this.onScreen.isShown(panel.panel.root);
      for (const chart of panel.panel.charts) {
        chart.reload(this.windowMs);
        if (!shown || this.awaitingBackfill || this.awaitingRange || this.awaitingOlder) continue;
        chart.draw();
        drew = true;
      }
    }
    // After the loop: `settled` waits for the frames sent so far, every chart's.
    if (drew) this.noteDrawn();
  }
}
