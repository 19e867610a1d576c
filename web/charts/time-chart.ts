import {
  Chart,
  type ChartDataset,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  type Plugin,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { Level } from '../../server/protocol.js';
import { formatClock, formatTick } from '../format.js';
import type { SeriesKey } from '../metrics.js';
import type { SeriesStore } from '../store.js';
import { bucketMsFor, MinMaxDecimator, type Point } from './decimate.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip, Legend);

const cssColor = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

interface BandOptions {
  level?: Level;
  /** Resolved when the theme is applied: reading CSS on every frame would force a style recalculation. */
  colors: { warning: string; critical: string };
}

/** Shades the y range from the warning level up (amber), and from the critical level up (red). */
const thresholdBands: Plugin<'line'> = {
  id: 'pulseboardBands',
  beforeDatasetsDraw(chart) {
    const options = (chart.options.plugins as { pulseboardBands?: BandOptions }).pulseboardBands;
    const level = options?.level;
    const y = chart.scales.y;
    if (!level || !y) return;
    const { ctx, chartArea } = chart;
    const band = (from: number, to: number, color: string) => {
      const top = Math.max(chartArea.top, y.getPixelForValue(to));
      const bottom = Math.min(chartArea.bottom, y.getPixelForValue(from));
      if (bottom <= top) return;
      ctx.save();
      ctx.fillStyle = color;
      ctx.globalAlpha = 0.12;
      ctx.fillRect(chartArea.left, top, chartArea.right - chartArea.left, bottom - top);
      ctx.restore();
    };
    band(level.warning, level.critical, options.colors.warning);
    band(level.critical, Math.max(y.max, level.critical), options.colors.critical);
  },
};

/** A span of time a rule fired, drawn as a vertical band over every chart. */
export interface FiringSpan {
  from: number;
  /** null: still firing (the band reaches the chart's right edge). */
  to: number | null;
  severity: 'warning' | 'critical';
}

interface FiringOptions {
  spans: readonly FiringSpan[];
  colors: { warning: string; critical: string };
}

/** Shades the x spans when an alert fired, full height, behind the lines. */
const firingBands: Plugin<'line'> = {
  id: 'pulseboardFiring',
  beforeDatasetsDraw(chart) {
    const options = (chart.options.plugins as { pulseboardFiring?: FiringOptions }).pulseboardFiring;
    const x = chart.scales.x;
    if (!options || options.spans.length === 0 || !x) return;
    const { ctx, chartArea } = chart;
    for (const span of options.spans) {
      const left = Math.max(chartArea.left, x.getPixelForValue(span.from));
      const right = Math.min(chartArea.right, span.to === null ? chartArea.right : x.getPixelForValue(span.to));
      if (right <= left) continue;
      ctx.save();
      ctx.fillStyle = options.colors[span.severity];
      ctx.globalAlpha = 0.1;
      ctx.fillRect(left, chartArea.top, Math.max(1, right - left), chartArea.bottom - chartArea.top);
      ctx.restore();
    }
  },
};

export interface LineSpec {
  /** Store key, e.g. `cpu.user`: one of the keys METRICS stores, checked at compile time. */
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
  formatY: (value: number) => string;
  stacked?: boolean;
  yMax?: number;
  /** Warning / critical levels in this chart's y unit, drawn as bands behind the lines. */
  bands?: () => Level | undefined;
}

/**
 * A Chart.js line chart over a linear time axis (ms, formatted ticks: no date adapter). It holds the visible
 * window's points; live points are appended and the oldest dropped, never re-copied. Chart.js gets a min-max
 * decimation of them, a few points per pixel column at most: it updates every point it is given on every
 * draw, which for an hour of 1 Hz samples on a dozen lines cost tens of ms per update.
 */
export class TimeChart {
  private readonly chart: Chart<'line', Point[]>;
  private windowMs: number;
  /** The points of each line in the window, owned here; Chart.js draws their decimation. */
  private readonly series: Point[][];
  private readonly decimators: MinMaxDecimator[];
  /** Times drawn (tests and diagnostics). */
  drawCount = 0;
  /** Set when the lines were refilled: the next draw decimates them from scratch. */
  private reloaded = true;
  private bandColors = { warning: '#b45309', critical: '#b91c1c' };
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

  constructor(
    canvas: HTMLCanvasElement,
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
    const datasets: ChartDataset<'line', Point[]>[] = lines.map((line, i) => ({
      label: line.label,
      data: [],
      fill: line.fill ? (this.stacked && i > 0 ? '-1' : 'origin') : false,
      borderWidth: 1.5,
      pointRadius: 0,
      tension: 0,
      spanGaps: false,
      order: 0,
    }));
    // Behind each line, its min and max of downsampled rows, the band between them filled (empty when live).
    lines.forEach((line, i) => {
      const minIndex = lines.length + 2 * i;
      datasets.push(
        { label: `${line.label} min`, data: [], fill: false, borderWidth: 0, pointRadius: 0, tension: 0, spanGaps: false, order: 1 },
        { label: `${line.label} max`, data: [], fill: minIndex, borderWidth: 0, pointRadius: 0, tension: 0, spanGaps: false, order: 1 },
      );
    });
    this.chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      plugins: [thresholdBands, firingBands],
      data: { datasets },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: {
            display: lines.length > 1,
            labels: { boxWidth: 10, boxHeight: 10, filter: (item) => (item.datasetIndex ?? 0) < lines.length },
          },
          tooltip: {
            filter: (item) => item.datasetIndex < lines.length,
            callbacks: {
              title: (items) => formatClock(items[0]?.parsed.x ?? 0),
              label: (item) => `${item.dataset.label}: ${options.formatY((item.raw as Point).v ?? item.parsed.y ?? 0)}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            ticks: {
              maxTicksLimit: 5,
              maxRotation: 0,
              callback: (value) =>
                formatTick(Number(value), Number(this.chart.options.scales?.x?.max ?? 0) - Number(this.chart.options.scales?.x?.min ?? 0)),
            },
          },
          y: {
            type: 'linear',
            beginAtZero: true,
            max: options.yMax,
            ticks: { maxTicksLimit: 4, callback: (value) => options.formatY(Number(value)) },
          },
        },
      },
    });
    this.applyColors();
  }

  /** Takes the colours from the page's CSS variables again (after a theme change); drawn on the next draw(). */
  applyColors(): void {
    const text = cssColor('--muted');
    const grid = cssColor('--grid');
    this.bandColors = { warning: cssColor('--warn'), critical: cssColor('--bad') };
    this.lines.forEach((line, i) => {
      const dataset = this.chart.data.datasets[i];
      if (!dataset) return;
      dataset.borderColor = cssColor(line.color);
      dataset.backgroundColor = `${cssColor(line.color)}55`;
      for (const band of [this.lines.length + 2 * i, this.lines.length + 2 * i + 1]) {
        const bandSet = this.chart.data.datasets[band];
        if (bandSet) bandSet.backgroundColor = `${cssColor(line.color)}2e`;
      }
    });
    const { options } = this.chart;
    if (options.plugins?.legend?.labels) options.plugins.legend.labels.color = text;
    for (const scale of [options.scales?.x, options.scales?.y]) {
      if (!scale) continue;
      if (scale.ticks) scale.ticks.color = text;
      if (scale.grid) scale.grid.color = grid;
    }
  }

  /** Points the chart holds, all lines together (bounded by the window and the store). */
  get pointCount(): number {
    return this.series.reduce((sum, points) => sum + points.length, 0);
  }

  /** Points of the min–max bands, as drawn, all lines together (null gap markers not counted). */
  get bandPointCount(): number {
    return this.chart.data.datasets
      .slice(this.lines.length)
      .reduce((sum, dataset) => sum + (dataset.data as Point[]).filter((point) => point.y !== null).length, 0);
  }

  /** The colour of the first line, as drawn (tests check that a theme switch recolours). */
  get lineColor(): string {
    return String(this.chart.data.datasets[0]?.borderColor ?? '');
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
    });
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
    (this.chart.options.plugins as { pulseboardBands?: BandOptions }).pulseboardBands = { level: this.bands?.(), colors: this.bandColors };
    (this.chart.options.plugins as { pulseboardFiring?: FiringOptions }).pulseboardFiring = {
      spans: this.firing(),
      colors: this.bandColors,
    };
    const view = this.view;
    const latest = view && !view.follow ? view.to : this.latestTime();
    // Until the window is full, span the data held, so a fresh page is not a sliver at the right edge.
    const min = view ? latest - this.windowMs : Math.max(latest - this.windowMs, this.oldestTime(latest));
    const x = this.chart.options.scales?.x;
    if (x) {
      x.min = min;
      x.max = latest;
    }
    const bucketMs = bucketMsFor(latest - min, this.chart.chartArea?.width ?? this.chart.width);
    this.series.forEach((points, i) => {
      const dataset = this.chart.data.datasets[i];
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
      if (dataset) dataset.data = withGaps(drawn, gapMs);
      this.drawBand(i, gapMs);
    });
    this.reloaded = false;
    this.chart.update('none');
    this.drawCount++;
  }

  /** Each line's min–max band of a downsampled range (on a stacked chart, lifted by the lines below). */
  private drawBand(i: number, gapMs: number): void {
    const view = this.view;
    const line = this.lines[i] as LineSpec;
    const lowSet = this.chart.data.datasets[this.lines.length + 2 * i];
    const highSet = this.chart.data.datasets[this.lines.length + 2 * i + 1];
    if (!lowSet || !highSet) return;
    if (!view?.min || !view.max) {
      lowSet.data = [];
      highSet.data = [];
      return;
    }
    const base = new Map<number, number>();
    if (this.stacked && i > 0) for (const point of this.series[i - 1] ?? []) base.set(point.x, point.y);
    const lift = (points: { x: number; y: number }[]) => points.map((point) => ({ x: point.x, y: point.y + (base.get(point.x) ?? 0) }));
    const from = (this.series[i]?.[0]?.x ?? view.from) - 1;
    lowSet.data = withGaps(lift(view.min.ring(line.key).pointsSince(from)), gapMs);
    highSet.data = withGaps(lift(view.max.ring(line.key).pointsSince(from)), gapMs);
  }

  /** The times (ms) on the x axis at these pixels of the canvas, for a drag to zoom. */
  timeAt(px: number): number {
    return Number(this.chart.scales.x?.getValueForPixel(px) ?? 0);
  }

  /** The canvas x pixel of a time (tests drag from one time to another). */
  pixelAt(t: number): number {
    return Number(this.chart.scales.x?.getPixelForValue(t) ?? 0);
  }

  /** Width of the plot area, px: the page asks for about two rows per pixel. */
  get plotWidth(): number {
    return this.chart.chartArea?.width ?? this.chart.width;
  }

  /** The gaps drawn in the first line, as [last time before, first time after] (tests and diagnostics). */
  gaps(): [number, number][] {
    const data = (this.chart.data.datasets[0]?.data ?? []) as (Point | { x: number; y: null })[];
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
    const x = this.chart.options.scales?.x;
    return { min: Number(x?.min ?? 0), max: Number(x?.max ?? 0) };
  }

  destroy(): void {
    this.chart.destroy();
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
    const before = points[i - 1];
    if (before && point.x - before.x > gapMs) result.push({ x: (before.x + point.x) / 2, y: null as unknown as number });
    result.push(point);
  }
  return result;
}
