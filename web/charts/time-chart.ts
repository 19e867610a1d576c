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
import { formatClock } from '../format.js';
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

export interface LineSpec {
  /** Store key, e.g. `cpu.user`: one of the keys METRICS stores, checked at compile time. */
  key: SeriesKey;
  label: string;
  /** A CSS custom property holding the colour, e.g. `--c-user`. */
  color: string;
  fill?: boolean;
}

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
  /** Set when the lines were refilled: the next draw decimates them from scratch. */
  private reloaded = true;
  private bandColors = { warning: '#b45309', critical: '#b91c1c' };
  /** While paused: the chart shows the window ending here and ignores newer points. */
  private frozenAt: number | null = null;
  private readonly bands: TimeChartOptions['bands'];
  private readonly stacked: boolean;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly store: SeriesStore,
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
    }));
    this.chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      plugins: [thresholdBands],
      data: { datasets },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: { display: lines.length > 1, labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: {
            callbacks: {
              title: (items) => formatClock(items[0]?.parsed.x ?? 0),
              label: (item) => `${item.dataset.label}: ${options.formatY((item.raw as Point).v ?? item.parsed.y ?? 0)}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            ticks: { maxTicksLimit: 5, maxRotation: 0, callback: (value) => formatClock(Number(value)) },
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
    this.windowMs = windowMs;
    const until = this.latestTime();
    const since = until - windowMs;
    let below: Point[] = [];
    this.lines.forEach((line, i) => {
      const points = this.store.ring(line.key).pointsSince(since);
      const held = this.frozenAt === null ? points : points.filter((point) => point.x <= until);
      this.series[i] = this.stackOn(below, held);
      below = this.series[i];
    });
    this.reloaded = true;
  }

  /**
   * Appends each line's newest stored point, if newer than what the chart has, and trims the window. The
   * chart never holds a point its ring has dropped: a window longer than the server's history stays bounded.
   */
  append(): void {
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
    const latest = this.latestTime();
    // Until the window is full, span the data held, so a fresh page is not a sliver at the right edge.
    const min = Math.max(latest - this.windowMs, this.oldestTime(latest));
    const x = this.chart.options.scales?.x;
    if (x) {
      x.min = min;
      x.max = latest;
    }
    const bucketMs = bucketMsFor(latest - min, this.chart.chartArea?.width ?? this.chart.width);
    this.series.forEach((points, i) => {
      const decimator = this.decimators[i] as MinMaxDecimator;
      if (this.reloaded) decimator.rebuild(points, bucketMs);
      else decimator.sync(points, bucketMs);
      const dataset = this.chart.data.datasets[i];
      if (dataset) dataset.data = decimator.drawn.slice();
    });
    this.reloaded = false;
    this.chart.update('none');
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
    let latest = 0;
    for (const line of this.lines) latest = Math.max(latest, this.store.ring(line.key).last()?.t ?? 0);
    return latest || Date.now();
  }
}
