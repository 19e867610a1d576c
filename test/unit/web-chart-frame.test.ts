import { describe, expect, it } from 'vitest';
import { buffersOf, type ChartFrame, pack, packBand, unpack } from '../../web/charts/chart-frame.js';
import { withGaps } from '../../web/charts/time-chart.js';

describe('a chart frame: points as typed-array columns for the chart worker', () => {
  it('comes back as the same points, a gap as a null y and a stacked line with its own values', () => {
    const stacked = [
      { x: 1000, y: 30, v: 10 },
      { x: 2000, y: 35, v: 12.5 },
      { x: 9000, y: 40, v: 15 },
    ];
    const drawn = withGaps(stacked, 3000);
    const back = unpack(structuredClone(pack(drawn, true)));
    expect(back).toEqual([
      { x: 1000, y: 30, v: 10 },
      { x: 2000, y: 35, v: 12.5 },
      { x: 5500, y: null, v: Number.NaN },
      { x: 9000, y: 40, v: 15 },
    ]);
    const plain = unpack(pack([{ x: 1, y: 0.1 }], false));
    expect(plain).toEqual([{ x: 1, y: 0.1 }]);
  });

  it("joins a band's minimums and maximums by time, a time only one of them has and a gap in time breaking it", () => {
    const low = [
      { x: 1000, y: 1 },
      { x: 2000, y: 2 },
      { x: 9000, y: 4 },
    ];
    const high = [
      { x: 1000, y: 3 },
      { x: 3000, y: 5 },
      { x: 9000, y: 6 },
    ];
    const band = packBand(low, high, 3000);
    expect([...band.x]).toEqual([1000, 2000, 3000, 6000, 9000]);
    expect([...band.low]).toEqual([1, 2, Number.NaN, Number.NaN, 4]);
    expect([...band.high]).toEqual([3, Number.NaN, 5, Number.NaN, 6]);
    // Rows as close as the line's own gap rule allows stay joined, as the line does.
    expect([...packBand(low.slice(0, 1), high.slice(0, 1), 3000).x]).toEqual([1000]);
    expect([...packBand([], [], 3000).x]).toEqual([]);
  });

  it('hands over every buffer of its lines and bands, so posting moves them instead of copying', () => {
    const points = pack([{ x: 1, y: 2 }], true);
    const band = packBand([{ x: 1, y: 1 }], [{ x: 1, y: 3 }], 10);
    const frame: ChartFrame = {
      min: 0,
      max: 2,
      lines: [
        { points, band },
        { points: pack([], false), band: null },
      ],
      level: null,
      firing: [],
    };
    const buffers = buffersOf(frame);
    expect(buffers).toHaveLength(8); // x, y, v of the first line; x, low, high of its band; x, y of the second line
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(frame, buffers);
    port1.close();
    port2.close();
    expect(points.x.byteLength).toBe(0); // detached: moved to the other side
    expect(band.high.byteLength).toBe(0);
  });
});
