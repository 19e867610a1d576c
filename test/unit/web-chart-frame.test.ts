import { describe, expect, it } from 'vitest';
import { buffersOf, type ChartFrame, pack, unpack } from '../../web/charts/chart-frame.js';
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

  it('hands over every buffer of its lines and bands, so posting moves them instead of copying', () => {
    const points = pack([{ x: 1, y: 2 }], true);
    const low = pack([{ x: 1, y: 1 }], false);
    const high = pack([{ x: 1, y: 3 }], false);
    const frame: ChartFrame = { min: 0, max: 2, lines: [{ points, low, high }], level: null, firing: [] };
    const buffers = buffersOf(frame);
    expect(buffers).toHaveLength(7); // x, y, v of the line; x, y of each band
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(frame, buffers);
    port1.close();
    port2.close();
    expect(points.x.byteLength).toBe(0); // detached: moved to the other side
    expect(high.y.byteLength).toBe(0);
  });
});
