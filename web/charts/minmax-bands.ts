import type { Chart, Plugin } from 'chart.js';
import type { PackedBand } from './chart-frame.js';

/** Each line's band is its own colour this opaque, drawn behind every line. */
const BAND_ALPHA = 0.18;

/** The plugin's options: the band of each line, by the line's dataset index (null: none, as when live). */
export interface MinMaxBandOptions {
  bands: readonly (PackedBand | null)[];
}

/** The bands a chart draws, as its frame put them into its options. */
export function minMaxBandsOf(chart: Chart<'line'>): readonly (PackedBand | null)[] {
  return (chart.options.plugins as { pulseboardMinMax?: MinMaxBandOptions }).pulseboardMinMax?.bands ?? [];
}

/** The band's runs of rows with both a low and a high, as `[start, end)` row indexes: a NaN in either breaks it. */
export function gaplessRuns(band: PackedBand): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= band.x.length; i++) {
    const whole = i < band.x.length && !Number.isNaN(band.low[i] as number) && !Number.isNaN(band.high[i] as number);
    if (whole && start < 0) start = i;
    if (!whole && start >= 0) {
      runs.push([start, i]);
      start = -1;
    }
  }
  return runs;
}

/** The lowest low and highest high of the band's rows from `from` to `to`, or null when it has none there. */
export function bandLimits(band: PackedBand, from: number, to: number): { min: number; max: number } | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < band.x.length; i++) {
    const x = band.x[i] as number;
    if (x < from || x > to) continue;
    const low = band.low[i] as number;
    const high = band.high[i] as number;
    if (low < min) min = low;
    if (high > max) max = high;
  }
  return min <= max ? { min, max } : null;
}

/**
 * Fills each shown line's min–max band (the polygon along its highs and back along its lows), in the line's
 * colour, behind the lines and within the plot area. A line hidden from the legend takes its band with it.
 */
export const minMaxBands: Plugin<'line'> = {
  id: 'pulseboardMinMax',
  // The y axis reaches the bands, as it reaches the lines (not only the means), unless its range is fixed.
  afterDataLimits(chart, { scale }) {
    if (scale.id !== 'y') return;
    const bounds = scale.getUserBounds();
    const x = chart.options.scales?.x;
    const from = typeof x?.min === 'number' ? x.min : Number.NEGATIVE_INFINITY;
    const to = typeof x?.max === 'number' ? x.max : Number.POSITIVE_INFINITY;
    minMaxBandsOf(chart).forEach((band, i) => {
      const limits = band && chart.isDatasetVisible(i) ? bandLimits(band, from, to) : null;
      if (!limits) return;
      if (!bounds.minDefined) scale.min = Math.min(scale.min, limits.min);
      if (!bounds.maxDefined) scale.max = Math.max(scale.max, limits.max);
    });
  },
  beforeDatasetsDraw(chart) {
    const { ctx, chartArea } = chart;
    const { x, y } = chart.scales;
    const bands = minMaxBandsOf(chart);
    if (!x || !y || bands.length === 0) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(chartArea.left, chartArea.top, chartArea.right - chartArea.left, chartArea.bottom - chartArea.top);
    ctx.clip();
    ctx.globalAlpha = BAND_ALPHA;
    bands.forEach((band, i) => {
      const color = chart.data.datasets[i]?.borderColor;
      if (!band || typeof color !== 'string' || !chart.isDatasetVisible(i)) return;
      const to = (row: number, values: Float64Array) =>
        ctx.lineTo(x.getPixelForValue(band.x[row] as number), y.getPixelForValue(values[row] as number));
      ctx.fillStyle = color;
      ctx.beginPath();
      for (const [start, end] of gaplessRuns(band)) {
        ctx.moveTo(x.getPixelForValue(band.x[start] as number), y.getPixelForValue(band.high[start] as number));
        for (let row = start + 1; row < end; row++) to(row, band.high);
        for (let row = end - 1; row >= start; row--) to(row, band.low);
        ctx.closePath();
      }
      ctx.fill();
    });
    ctx.restore();
  },
};
