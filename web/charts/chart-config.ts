import { BasicPlatform, type ChartConfiguration, type ChartDataset, type Plugin } from 'chart.js';
import type { Level } from '../../server/protocol.js';
import { formatClock, formatTick } from '../format.js';
import type { ChartSize, ChartSpec, FiringSpan } from './chart-frame.js';
import type { Point } from './decimate.js';
import { FORMATTERS } from './formatters.js';
import { minMaxBands } from './minmax-bands.js';

export interface BandOptions {
  level: Level | null;
  colors: { warning: string; critical: string };
}

/** Shades the y range from the warning level up (amber), and from the critical level up (red). */
const thresholdBands: Plugin<'line'> = {
  id: 'pulseboardBands',
  beforeDatasetsDraw(chart) {
    const options = (chart.options.plugins as { pulseboardBands?: BandOptions }).pulseboardBands;
    const level = options?.level;
    const y = chart.scales.y;
    if (!options || !level || !y) return;
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

export interface FiringOptions {
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

/**
 * The Chart.js configuration of a time chart, the one used both in the chart worker and on the main thread.
 * Chart.js gets no events and no DOM of its own (`BasicPlatform`, `events: []`): the page forwards the
 * pointer and the size, in both places alike.
 */
export function chartConfig(spec: ChartSpec, size: ChartSize): ChartConfiguration<'line', Point[]> {
  const format = FORMATTERS[spec.format];
  const count = spec.lines.length;
  // Only the lines are datasets: their min–max bands are drawn behind them by `minMaxBands`.
  const datasets: ChartDataset<'line', Point[]>[] = spec.lines.map((line, i) => ({
    label: line.label,
    data: [],
    fill: line.fill ? (spec.stacked && i > 0 ? '-1' : 'origin') : false,
    borderWidth: 1.5,
    pointRadius: 0,
    tension: 0,
    spanGaps: false,
  }));
  return {
    type: 'line',
    platform: BasicPlatform,
    plugins: [thresholdBands, firingBands, minMaxBands],
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: false,
      maintainAspectRatio: false,
      devicePixelRatio: size.devicePixelRatio,
      events: [],
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      plugins: {
        legend: {
          display: count > 1,
          labels: { boxWidth: 10, boxHeight: 10 },
        },
        tooltip: {
          callbacks: {
            title: (items) => formatClock(items[0]?.parsed.x ?? 0),
            label: (item) => `${item.dataset.label}: ${format((item.raw as Point).v ?? item.parsed.y ?? 0)}`,
          },
        },
      },
      scales: {
        x: {
          type: 'linear',
          ticks: {
            maxTicksLimit: 5,
            maxRotation: 0,
            callback(value) {
              return formatTick(Number(value), this.max - this.min);
            },
          },
        },
        y: {
          type: 'linear',
          beginAtZero: true,
          max: spec.yMax,
          ticks: { maxTicksLimit: 4, callback: (value) => format(Number(value)) },
        },
      },
    },
  };
}
