import type { Level } from '../../server/protocol.js';
import type { SeriesKey } from '../metrics.js';
import type { SeriesStore } from '../store.js';
import {
  type ChartColors,
  type ChartFrame,
  type ChartLayout,
  type ChartSize,
  type ChartSnapshot,
  type FiringSpan,
  gapMarkBetween,
  pack,
  packBand,
} from './chart-frame.js';
import { type ChartSurface, createSurface } from './chart-surface.js';
import { bucketMsFor, MinMaxDecimator, type Point } from './decimate.js';
import type { FormatterName } from './formatters.js';
import { onPixelRatioChange } from './pixel-ratio.js';
import { forwardPointer } from './pointer-forward.js';
import { columnMs, DRAW_TOGETHER_MS, RedrawGate } from './redraw-gate.js';

export type { FiringSpan } from './chart-frame.js';

const cssColor = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** Chart.js's font size for every chart made from now on (the kiosk scales it with the screen). */
let fontSize: number | undefined;
export function setChartFontSize(px: number): void {
  fontSize = px;
}

export interface LineSpec {
  /** Store key, e.g. `cpu.user`: one of the metrics `metrics.ts` stores, checked at compile time. */
  key: SeriesKey;
  label: string;
  /** A CSS custom property holding the colour, e.g. `--c-user`. */
  color: string;
  fill?: boolean;
}

/**
 * A span of history shown instead of the live window: its rows (`mean`; `min` and `max` for downsampled
 * tiers) in stores of their own. `follow`: the span ends at the newest sample and moves with the stream.
 */
export interface RangeView {
  mean: SeriesStore;
  min: SeriesStore | null;
  max: SeriesStore | null;
  from: number;
  to: number;
  follow: boolean;
  /** Points further apart than this have a gap between them (downtime): no line is drawn across it. */
  gapMs: number;
}

/** Called when a range is dragged out on a chart. */
export type ZoomHandler = (from: number, to: number) => void;

export interface TimeChartOptions {
  /** The y ticks' and tooltips' formatter, by name (a chart drawn in the worker cannot be sent a function). */
  formatY: FormatterName;
  stacked?: boolean;
  yMax?: number;
  /** Warning / critical levels in this chart's y unit, drawn as bands behind the lines. */
  bands?: () => Level | undefined;
}

/**
 * A Chart.js line chart over a linear time axis (ms, formatted ticks: no date adapter). It holds the visible
 * window's points; live points are appended and the oldest dropped, never re-copied. Each draw hands its
 * surface (the chart worker, or the main thread where there is no OffscreenCanvas) a min-max decimation of
 * them as typed arrays, a few points per pixel column at most.
 */
export class TimeChart {
  private readonly surface: ChartSurface;
  private windowMs: number;
  /** The points of each line in the window, owned here; the surface draws their decimation. */
  private readonly series: Point[][];
  private readonly decimators: MinMaxDecimator[];
  /** Times drawn (tests and diagnostics). */
  drawCount = 0;
  /** Live points are drawn at most once per pixel column's time, and within it. */
  private readonly gate = new RedrawGate();
  /** Set when the lines were refilled: the next draw decimates them from scratch. */
  private reloaded = true;
  private colors: ChartColors;
  /** While paused: the chart shows the window ending here and ignores newer points. */
  private frozenAt: number | null = null;
  private readonly bands: TimeChartOptions['bands'];
  private readonly stacked: boolean;
  /** When alerts fired, drawn as bands over the chart (set by the board). */
  firing: () => readonly FiringSpan[] = () => [];
  /** The span of history shown, or null for the live window from the page's store. */
  private view: RangeView | null = null;
  /** Live: points further apart than this are a gap (the server's interval, times three). */
  private liveGapMs = 3000;
  private size: ChartSize = { width: 0, height: 0, devicePixelRatio: 1 };
  private readonly resizeObserver: ResizeObserver | null = null;
  private readonly stopWatchingPixelRatio: () => void;
  /** What the last frame held: x range, first line as drawn, band points (tests and diagnostics). */
  private last = { min: 0, max: 0, firstLine: [] as Point[], bandPoints: 0 };

  constructor(
    canvas: HTMLCanvasElement,
    private readonly frame: HTMLElement,
    private readonly liveStore: SeriesStore,
    private readonly lines: LineSpec[],
    options: TimeChartOptions,
    windowMs: number,
  ) {
    this.windowMs = windowMs;
    this.series = lines.map(() => []);
    this.decimators = lines.map(() => new MinMaxDecimator());
    this.bands = options.bands;
    this.stacked = options.stacked ?? false;
    this.colors = this.readColors();
    const spec = {
      lines: lines.map((line) => ({ label: line.label, fill: line.fill ?? false })),
      stacked: this.stacked,
      yMax: options.yMax,
      format: options.formatY,
      fontSize,
    };
    this.surface = createSurface(canvas, spec, this.size);
    this.surface.setColors(this.colors);
    forwardPointer(canvas, this.surface, (tooltip) => {
      if (tooltip) canvas.dataset.tooltip = tooltip.join('\n');
      else delete canvas.dataset.tooltip;
    });
    if (typeof ResizeObserver === 'function') {
      this.resizeObserver = new ResizeObserver(() => this.measure());
      this.resizeObserver.observe(frame);
    }
    this.stopWatchingPixelRatio = onPixelRatioChange(() => this.measure());
  }

  /** Where this chart is drawn: in the chart worker, or on the main thread. */
  get drawnIn(): 'worker' | 'main' {
    return this.surface.mode;
  }

  /** The chart's size from its frame, sent to the surface when it changed. */
  private measure(): void {
    const size = { width: this.frame.clientWidth, height: this.frame.clientHeight, devicePixelRatio: window.devicePixelRatio || 1 };
    if (size.width === this.size.width && size.height === this.size.height && size.devicePixelRatio === this.size.devicePixelRatio) return;
    this.size = size;
    this.surface.resize(size);
  }

  private readColors(): ChartColors {
    return {
      lines: this.lines.map((line) => cssColor(line.color)),
      text: cssColor('--muted'),
      grid: cssColor('--grid'),
      warning: cssColor('--warn'),
      critical: cssColor('--bad'),
    };
  }

  /** Takes the colours from the page's CSS variables again (after a theme change); drawn on the next draw(). */
  applyColors(): void {
    this.colors = this.readColors();
    this.surface.setColors(this.colors);
  }

  /** Points the chart holds, all lines together (bounded by the window and the store). */
  get pointCount(): number {
    return this.series.reduce((sum, points) => sum + points.length, 0);
  }

  /** Points of the min–max bands, as drawn, all lines together (null gap markers not counted). */
  get bandPointCount(): number {
    return this.last.bandPoints;
  }

  /** The colour of the first line, as drawn (tests check that a theme switch recolours). */
  get lineColor(): string {
    return this.colors.lines[0] ?? '';
  }
  /** Holds the chart at its newest point, or lets it follow the data again. */
  freeze(paused: boolean): void {
    this.frozenAt = null;
    if (paused) this.frozenAt = this.latestTime();
  }

  /** Refills the datasets from the store (after a backfill, a reset, a window change, or a pause). */
  reload(windowMs = this.windowMs): void {
    this.windowMs = this.view ? this.view.to - this.view.from : windowMs;
    const until = this.view && !this.view.follow ? this.view.to : this.latestTime();
    const since = this.view && !this.view.follow ? this.view.from : until - this.windowMs;
    let below: Point[] = [];
    this.lines.forEach((line, i) => {
      const points = this.store.ring(line.key).pointsSince(since);
      const held = points.filter((point) => point.x <= until);
      this.series[i] = this.stackOn(below, held);
      below = this.series[i];
    });
    this.reloaded = true;
  }

  /** Shows a span of history (null: back to the live window); drawn on the next reload and draw. */
  showRange(view: RangeView | null): void {
    this.view = view;
    this.frozenAt = null;
  }

  setLiveGap(intervalMs: number): void {
    this.liveGapMs = 3 * intervalMs;
  }

  /** The store the lines come from: the page's live one, or the shown range's. */
  private get store(): SeriesStore {
    return this.view?.mean ?? this.liveStore;
  }

  /**
   * Appends each line's newest stored point, if newer than what the chart has, and trims the window. The
   * chart never holds a point its ring has dropped: a window longer than the server's history stays bounded.
   */
  append(): void {
    if (this.view && !this.view.follow) return;
    const windowStart = this.latestTime() - this.windowMs;
    let below: Point[] = [];
    this.lines.forEach((line, i) => {
      const data = this.series[i];
      const ring = this.store.ring(line.key);
      if (!data) return;
      // Every point since the last draw: draws are fewer than samples when the server samples fast.
      const added = this.stackOn(below, ring.pointsAfter(data.at(-1)?.x ?? Number.NEGATIVE_INFINITY));
      for (const point of added) data.push(point);
      below = added;
      const cutoff = Math.max(windowStart, ring.firstTime());
      let drop = 0;
      while (drop < data.length && (data[drop] as Point).x < cutoff) drop++;
      if (drop > 0) data.splice(0, drop);
      if (added.length > 0 || drop > 0) this.gate.changed();
    });
  }

  /** The time one pixel column spans as last drawn, ms (0 before the first draw). */
  get columnMs(): number {
    return columnMs(this.last.max - this.last.min, this.plotWidth);
  }

  /**
   * Draws the points appended since the last draw if a pixel column's time has passed since then, or will
   * within DRAW_TOGETHER_MS (or the lines were refilled): drawn sooner, the lines would move by less than a
   * pixel. True when it drew.
   */
  drawIfDue(now: number): boolean {
    if (!this.reloaded && !this.gate.due(now, this.columnMs, DRAW_TOGETHER_MS)) return false;
    this.draw();
    return true;
  }

  /** When this chart's undrawn points must be drawn by (the page's clock, ms), or null when all are drawn. */
  nextDrawAt(): number | null {
    return this.reloaded ? 0 : this.gate.dueAt(this.columnMs);
  }

  /**
   * On a stacked chart, each line is drawn on top of the line before it (the points at the same times).
   * Chart.js's own stacking keeps an entry per x value forever, which leaks on a chart that scrolls.
   */
  private stackOn(below: Point[], points: Point[]): Point[] {
    if (!this.stacked) return points;
    const base = new Map(below.map((point) => [point.x, point.y]));
    return points.map((point) => ({ x: point.x, y: point.y + (base.get(point.x) ?? 0), v: point.y }));
  }

  draw(): void {
    // A ratio changed with no media query change seen (DevTools' device emulation changes it so): drawn for it now.
    if (this.size.width === 0 || window.devicePixelRatio !== this.size.devicePixelRatio) this.measure();
    const view = this.view;
    const latest = view && !view.follow ? view.to : this.latestTime();
    // Until the window is full, span the data held, so a fresh page is not a sliver at the right edge.
    const min = view ? latest - this.windowMs : Math.max(latest - this.windowMs, this.oldestTime(latest));
    const bucketMs = bucketMsFor(latest - min, this.plotWidth);
    let bandPoints = 0;
    let firstLine: Point[] = [];
    const lines: ChartFrame['lines'] = this.series.map((points, i) => {
      let drawn: Point[];
      if (view) {
        // The server already sent about two rows per pixel: drawn as they are.
        drawn = points;
      } else {
        const decimator = this.decimators[i] as MinMaxDecimator;
        if (this.reloaded) decimator.rebuild(points, bucketMs);
        else decimator.sync(points, bucketMs);
        drawn = decimator.drawn;
      }
      const gapMs = view ? view.gapMs : Math.max(this.liveGapMs, 2.5 * bucketMs);
      const withGap = withGaps(drawn, gapMs);
      if (i === 0) firstLine = withGap;
      const band = this.band(i);
      if (band) bandPoints += band.low.length + band.high.length;
      return { points: pack(withGap, this.stacked), band: band ? packBand(band.low, band.high, gapMs) : null };
    });
    this.reloaded = false;
    this.gate.drawn(performance.now());
    this.last = { min, max: latest, firstLine, bandPoints };
    this.surface.draw({
      min,
      max: latest,
      lines,
      level: this.bands?.() ?? null,
      firing: [...this.firing()],
    });
    this.drawCount++;
  }

  /** Each line's min–max band of a downsampled range (on a stacked chart, lifted by the lines below); null when live. */
  private band(i: number): { low: Point[]; high: Point[] } | null {
    const view = this.view;
    const line = this.lines[i] as LineSpec;
    if (!view?.min || !view.max) return null;
    const base = new Map<number, number>();
    if (this.stacked && i > 0) for (const point of this.series[i - 1] ?? []) base.set(point.x, point.y);
    const lift = (points: { x: number; y: number }[]) => points.map((point) => ({ x: point.x, y: point.y + (base.get(point.x) ?? 0) }));
    const from = (this.series[i]?.[0]?.x ?? view.from) - 1;
    return { low: lift(view.min.ring(line.key).pointsSince(from)), high: lift(view.max.ring(line.key).pointsSince(from)) };
  }

  /** Resolves once every frame sent is drawn (in the worker, drawing is asynchronous). */
  settled(): Promise<void> {
    return this.surface.settled();
  }

  /** The datasets as the surface's Chart.js holds them (tests: the worker draws what the main thread would). */
  snapshot(): Promise<ChartSnapshot> {
    return this.surface.snapshot();
  }

  private get layout(): ChartLayout | null {
    return this.surface.layout;
  }

  /** The time (ms) on the x axis at this canvas x pixel, as last drawn (a linear axis), for a drag to zoom. */
  timeAt(px: number): number {
    const layout = this.layout;
    if (!layout || layout.right <= layout.left) return 0;
    return layout.min + ((px - layout.left) / (layout.right - layout.left)) * (layout.max - layout.min);
  }

  /** The canvas x pixel of a time, as last drawn (tests drag from one time to another). */
  pixelAt(t: number): number {
    const layout = this.layout;
    if (!layout || layout.max <= layout.min) return 0;
    return layout.left + ((t - layout.min) / (layout.max - layout.min)) * (layout.right - layout.left);
  }

  /** Width of the chart's frame on the page, CSS px. */
  get frameWidth(): number {
    return this.frame.clientWidth;
  }

  /** Width of the plot area as last drawn (the frame's before the first draw), px: decimation's buckets. */
  get plotWidth(): number {
    const layout = this.layout;
    return layout && layout.right > layout.left ? layout.right - layout.left : this.size.width;
  }

  /** The gaps drawn in the first line, as [last time before, first time after] (tests and diagnostics). */
  gaps(): [number, number][] {
    const data = this.last.firstLine as (Point | { x: number; y: null })[];
    const gaps: [number, number][] = [];
    data.forEach((point, i) => {
      if (point.y !== null) return;
      const before = data[i - 1];
      const after = data[i + 1];
      if (before && after) gaps.push([before.x, after.x]);
    });
    return gaps;
  }

  /** The time span on the x axis as last drawn. */
  range(): { min: number; max: number } {
    return { min: this.last.min, max: this.last.max };
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    this.stopWatchingPixelRatio();
    this.surface.destroy();
  }

  private oldestTime(fallback: number): number {
    let oldest = fallback;
    for (const points of this.series) oldest = Math.min(oldest, points[0]?.x ?? fallback);
    return oldest;
  }

  private latestTime(): number {
    if (this.frozenAt !== null) return this.frozenAt;
    if (this.view && !this.view.follow) return this.view.to;
    let latest = 0;
    for (const line of this.lines) latest = Math.max(latest, this.store.ring(line.key).last()?.t ?? 0);
    return latest || Date.now();
  }
}

/** The points with a null point between any two further apart than `gapMs`: Chart.js draws no line across it. */
export function withGaps(points: readonly { x: number; y: number }[], gapMs: number): Point[] {
  const result: Point[] = [];
  for (let i = 0; i < points.length; i++) {
    const point = points[i] as Point;
    const gap = gapMarkBetween(points[i - 1]?.x, point.x, gapMs);
    if (gap !== null) result.push({ x: gap, y: null as unknown as number });
    result.push(point);
  }
  return result;
}
