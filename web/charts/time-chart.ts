import {
  Chart,
  type ChartDataset,
  Decimation,
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
import type { SeriesStore } from '../store.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip, Legend, Decimation);

const cssColor = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** Shades the y range from the warning level up (amber), and from the critical level up (red). */
const thresholdBands: Plugin<'line'> = {
  id: 'pulseboardBands',
  beforeDatasetsDraw(chart) {
    const level = (chart.options.plugins as { pulseboardBands?: { level?: Level } }).pulseboardBands?.level;
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
    band(level.warning, level.critical, cssColor('--warn'));
    band(level.critical, Math.max(y.max, level.critical), cssColor('--bad'));
  },
};

export interface LineSpec {
  /** Store key, e.g. `cpu.user`. */
  key: string;
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

type Point = { x: number; y: number };

/**
 * A Chart.js line chart over a linear time axis (ms, formatted ticks: no date adapter). Its datasets
 * hold only the visible window; live points are appended and the oldest dropped, never re-copied.
 */
export class TimeChart {
  private readonly chart: Chart<'line', Point[]>;
  private windowMs: number;
  /** While paused: the chart shows the window ending here and ignores newer points. */
  private frozenAt: number | null = null;
  private readonly bands: TimeChartOptions['bands'];

  constructor(
    canvas: HTMLCanvasElement,
    private readonly store: SeriesStore,
    private readonly lines: LineSpec[],
    options: TimeChartOptions,
    windowMs: number,
  ) {
    this.windowMs = windowMs;
    this.bands = options.bands;
    const datasets: ChartDataset<'line', Point[]>[] = lines.map((line) => ({
      label: line.label,
      data: [],
      fill: line.fill ? (options.stacked ? 'stack' : 'origin') : false,
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
              label: (item) => `${item.dataset.label}: ${options.formatY(item.parsed.y ?? 0)}`,
            },
          },
          decimation: { enabled: true, algorithm: 'min-max' },
        },
        scales: {
          x: {
            type: 'linear',
            ticks: { maxTicksLimit: 5, maxRotation: 0, callback: (value) => formatClock(Number(value)) },
          },
          y: {
            type: 'linear',
            beginAtZero: true,
            stacked: options.stacked ?? false,
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
    this.lines.forEach((line, i) => {
      const dataset = this.chart.data.datasets[i];
      if (!dataset) return;
      const points = this.store.ring(line.key).pointsSince(since);
      dataset.data = this.frozenAt === null ? points : points.filter((point) => point.x <= until);
    });
  }

  /** Appends each line's newest stored point, if newer than what the chart has, and trims the window. */
  append(): void {
    const cutoff = this.latestTime() - this.windowMs;
    this.lines.forEach((line, i) => {
      const data = this.chart.data.datasets[i]?.data;
      const last = this.store.ring(line.key).last();
      if (!data || !last) return;
      if (data.length === 0 || (data[data.length - 1] as Point).x < last.t) data.push({ x: last.t, y: last.value });
      let drop = 0;
      while (drop < data.length && (data[drop] as Point).x < cutoff) drop++;
      if (drop > 0) data.splice(0, drop);
    });
  }

  draw(): void {
    (this.chart.options.plugins as { pulseboardBands?: { level?: Level } }).pulseboardBands = { level: this.bands?.() };
    const latest = this.latestTime();
    const x = this.chart.options.scales?.x;
    if (x) {
      // Until the window is full, span the data held, so a fresh page is not a sliver at the right edge.
      x.min = Math.max(latest - this.windowMs, this.oldestTime(latest));
      x.max = latest;
    }
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
    for (const dataset of this.chart.data.datasets) oldest = Math.min(oldest, dataset.data[0]?.x ?? fallback);
    return oldest;
  }

  private latestTime(): number {
    if (this.frozenAt !== null) return this.frozenAt;
    let latest = 0;
    for (const line of this.lines) latest = Math.max(latest, this.store.ring(line.key).last()?.t ?? 0);
    return latest || Date.now();
  }
}
