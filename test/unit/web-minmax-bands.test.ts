import { describe, expect, it } from 'vitest';
import type { PackedBand } from '../../web/charts/chart-frame.js';
import { bandLimits, gaplessRuns } from '../../web/charts/minmax-bands.js';

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
