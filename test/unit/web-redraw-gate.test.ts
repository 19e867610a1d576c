import { describe, expect, it } from 'vitest';
import { columnMs, DRAW_TOGETHER_MS, MAX_UNDRAWN_MS, RedrawGate } from '../../web/charts/redraw-gate.js';

/** A 1 s stream into a chart: which of its samples (by second) are drawn, with a catch-up pass at `dueAt` as the board runs it. */
function drawnSeconds(columnTime: number, seconds: number): number[] {
  const gate = new RedrawGate();
  gate.drawn(0);
  const draws: number[] = [];
  let undrawnSince: number | null = null;
  const maxWait: number[] = [];
  for (let now = 1; now <= seconds * 1000; now++) {
    if (now % 1000 === 0) {
      gate.changed();
      undrawnSince ??= now;
    }
    if (gate.due(now, columnTime)) {
      gate.drawn(now);
      draws.push(now);
      if (undrawnSince !== null) maxWait.push(now - undrawnSince);
      undrawnSince = null;
    }
  }
  expect(Math.max(0, ...maxWait)).toBeLessThanOrEqual(Math.min(columnTime, MAX_UNDRAWN_MS));
  return draws;
}

describe('a live chart draws new points at most once per pixel column, and within one', () => {
  it('a pixel column spans the window over the plot width', () => {
    expect(columnMs(3_600_000, 800)).toBe(4500);
    expect(columnMs(300_000, 800)).toBe(375);
    expect(columnMs(0, 800)).toBe(0);
    expect(columnMs(300_000, 0)).toBe(0);
  });

  it('at 5 m (a 375 ms column) every sample of a 1 s stream is drawn when it comes', () => {
    expect(drawnSeconds(375, 10)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
  });

  it('at 1 h (a 4.5 s column) a 1 s stream is drawn every 4.5 s, no point waiting longer than a column', () => {
    expect(drawnSeconds(4500, 20)).toEqual([4500, 9000, 13_500, 18_000]);
  });

  it('nothing new, nothing due; new points are due a column after the last draw', () => {
    const gate = new RedrawGate();
    expect(gate.dueAt(4500)).toBeNull();
    gate.drawn(10_000);
    expect(gate.due(100_000, 4500)).toBe(false);
    gate.changed();
    expect(gate.dueAt(4500)).toBe(14_500);
    expect(gate.due(14_499, 4500)).toBe(false);
    expect(gate.due(14_500, 4500)).toBe(true);
    gate.drawn(14_500);
    expect(gate.dueAt(4500)).toBeNull();
  });

  it(`a day on 700 px (a 2 minute column) still draws new points within ${MAX_UNDRAWN_MS} ms`, () => {
    expect(drawnSeconds(columnMs(86_400_000, 700), 12)).toEqual([5000, 10_000]);
  });

  it(`a chart due within ${DRAW_TOGETHER_MS} ms draws in the pass of another, not in a pass of its own`, () => {
    const gate = new RedrawGate();
    gate.drawn(0);
    gate.changed();
    expect(gate.due(4500 - DRAW_TOGETHER_MS - 1, 4500, DRAW_TOGETHER_MS)).toBe(false);
    expect(gate.due(4500 - DRAW_TOGETHER_MS, 4500, DRAW_TOGETHER_MS)).toBe(true);
  });

  it('a chart never drawn draws its first points at once', () => {
    const gate = new RedrawGate();
    gate.changed();
    expect(gate.due(0, 0)).toBe(true);
  });
});
