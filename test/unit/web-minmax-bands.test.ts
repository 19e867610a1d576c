import type { Chart } from 'chart.js';
import { describe, expect, it } from 'vitest';
import type { PackedBand } from '../../web/charts/chart-frame.js';
import { bandLimits, gaplessRuns, minMaxBands } from '../../web/charts/minmax-bands.js';

const NaN_ = Number.NaN;
const bandOf = (rows: [number, number, number][]): PackedBand => ({
  x: Float64Array.from(rows, ([x]) => x),
  low: Float64Array.from(rows, ([, low]) => low),
  high: Float64Array.from(rows, ([, , high]) => high),
});

describe('a min–max band drawn behind its line', () => {
  it('is drawn as runs of rows with both a low and a high: a NaN in either is a gap', () => {
    const band = bandOf([
      [1, 1, 2],
      [2, 1, 3],
      [3, NaN_, NaN_], // a gap in time
      [4, 2, 4],
      [5, 2, NaN_], // a row whose maximum is missing
      [6, 1, 5],
      [7, 0, 1],
    ]);
    expect(gaplessRuns(band)).toEqual([
      [0, 2],
      [3, 4],
      [5, 7],
    ]);
    expect(gaplessRuns(bandOf([[1, NaN_, 2]]))).toEqual([]);
    expect(gaplessRuns(bandOf([]))).toEqual([]);
    expect(gaplessRuns(bandOf([[1, 0, 2]]))).toEqual([[0, 1]]);
  });

  it('reaches from its lowest low to its highest high within the shown time, its gaps left out', () => {
    const band = bandOf([
      [1, -5, 100],
      [2, 3, 7],
      [3, NaN_, NaN_],
      [4, 2, 9],
      [5, 1, 50],
    ]);
    expect(bandLimits(band, 2, 4)).toEqual({ min: 2, max: 9 });
    expect(bandLimits(band, 0, 10)).toEqual({ min: -5, max: 100 });
    expect(bandLimits(band, 2.5, 3.5)).toBeNull();
  });
});

describe('the min–max band plugin', () => {
  /** A chart with one line whose band has a gap; the canvas records the path it is given (x and y in value units). */
  function chartWith(band: PackedBand, visible: boolean) {
    const calls: string[] = [];
    const ctx = {
      save: () => calls.push('save'),
      restore: () => calls.push('restore'),
      beginPath: () => calls.push('beginPath'),
      rect: () => calls.push('rect'),
      clip: () => calls.push('clip'),
      moveTo: (x: number, y: number) => calls.push(`moveTo ${x},${y}`),
      lineTo: (x: number, y: number) => calls.push(`lineTo ${x},${y}`),
      closePath: () => calls.push('closePath'),
      fill: () => calls.push('fill'),
      fillStyle: '',
      globalAlpha: 1,
    };
    const identity = { getPixelForValue: (value: number) => value };
    const chart = {
      ctx,
      chartArea: { left: 0, top: 0, right: 100, bottom: 100 },
      scales: { x: identity, y: identity },
      options: { plugins: { pulseboardMinMax: { bands: [band] } } },
      data: { datasets: [{ borderColor: '#336699' }] },
      isDatasetVisible: () => visible,
    };
    return { chart: chart as unknown as Chart<'line'>, calls, ctx };
  }

  it('fills each run along its highs and back along its lows, breaking at a gap, in the line colour', () => {
    const { chart, calls, ctx } = chartWith(
      bandOf([
        [1, 10, 20],
        [2, 11, 21],
        [3, NaN_, NaN_],
        [4, 12, 22],
        [5, 13, 23],
      ]),
      true,
    );
    minMaxBands.beforeDatasetsDraw?.(chart, { cancelable: true }, {});
    const path = calls.slice(calls.indexOf('clip') + 2);
    expect(path).toEqual([
      'moveTo 1,20',
      'lineTo 2,21',
      'lineTo 2,11',
      'lineTo 1,10',
      'closePath',
      'moveTo 4,22',
      'lineTo 5,23',
      'lineTo 5,13',
      'lineTo 4,12',
      'closePath',
      'fill',
      'restore',
    ]);
    expect(ctx.fillStyle).toBe('#336699');
    expect(ctx.globalAlpha).toBeLessThan(0.5);
  });

  it("draws nothing of a hidden line's band", () => {
    const { chart, calls } = chartWith(bandOf([[1, 10, 20]]), false);
    minMaxBands.beforeDatasetsDraw?.(chart, { cancelable: true }, {});
    expect(calls).not.toContain('fill');
  });
});
