import {
  Chart,
  type ChartDataset,
  Decimation,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { formatClock } from '../format.js';
import type { SeriesStore } from '../store.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip, Legend, Decimation);

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
}

type Point = { x: number; y: number };

/**
 * A Chart.js line chart over a linear time axis (ms, formatted ticks: no date adapter). Its datasets
 * hold only the visible window; live points are appended and the oldest dropped, never re-copied.
 */
export class TimeChart {
  private readonly chart: Chart<'line', Point[]>;
  private windowMs: number;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly store: SeriesStore,
    private readonly lines: LineSpec[],
    options: TimeChartOptions,
    windowMs: number,
  ) {
    this.windowMs = windowMs;
    const style = getComputedStyle(document.documentElement);
    const color = (name: string) => style.getPropertyValue(name).trim() || '#888';
    const datasets: ChartDataset<'line', Point[]>[] = lines.map((line) => ({
      label: line.label,
      data: [],
      borderColor: color(line.color),
      backgroundColor: `${color(line.color)}55`,
      fill: line.fill ? (options.stacked ? 'stack' : 'origin') : false,
      borderWidth: 1.5,
      pointRadius: 0,
      tension: 0,
    }));
    const grid = color('--grid');
    const text = color('--muted');
    this.chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: { display: lines.length > 1, labels: { color: text, boxWidth: 10, boxHeight: 10 } },
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
            ticks: { color: text, maxTicksLimit: 5, maxRotation: 0, callback: (value) => formatClock(Number(value)) },
            grid: { color: grid },
          },
          y: {
            type: 'linear',
            beginAtZero: true,
            stacked: options.stacked ?? false,
            max: options.yMax,
            ticks: { color: text, maxTicksLimit: 4, callback: (value) => options.formatY(Number(value)) },
            grid: { color: grid },
          },
        },
      },
    });
  }

  /** Refills the datasets from the store (after a backfill, a reset, or a window change). */
  reload(windowMs = this.windowMs): void {
    this.windowMs = windowMs;
    const since = this.latestTime() - windowMs;
    this.lines.forEach((line, i) => {
      const dataset = this.chart.data.datasets[i];
      if (dataset) dataset.data = this.store.ring(line.key).pointsSince(since);
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
    const latest = this.latestTime();
    const x = this.chart.options.scales?.x;
    if (x) {
      // Until the window is full, span the data held, so a fresh page is not a sliver at the right edge.
      x.min = Math.max(latest - this.windowMs, this.oldestTime(latest));
      x.max = latest;
    }
    this.chart.update('none');
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
    let latest = 0;
    for (const line of this.lines) latest = Math.max(latest, this.store.ring(line.key).last()?.t ?? 0);
    return latest || Date.now();
  }
}
