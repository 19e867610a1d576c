/** However wide a chart's pixel column (a day on 700 px: 2 minutes), new points wait no longer than this. */
export const MAX_UNDRAWN_MS = 5000;
/**
 * Charts due within this of a pass draw in it, a little early: the charts of a page have columns of slightly
 * different times (their widths differ) and would otherwise each draw at its own moment, every one a worker
 * task, a canvas commit and a compositor frame of its own.
 */
export const DRAW_TOGETHER_MS = 250;

/**
 * When a live chart draws its new points. One pixel column of a chart spans `columnMs` of time (the window
 * over the plot's width: at 1 h on 800 px, 4.5 s); drawn more often than that, the lines move by less than a
 * pixel, so a chart draws new points at most once per column's time, and never later than that (nor later
 * than MAX_UNDRAWN_MS): a point taken in is drawn within that time (the board sets a timer for `dueAt` when
 * no sample comes first). At 5 m on 800 px a column is 375 ms, so a 1 s stream still draws every sample.
 */
export class RedrawGate {
  private drawnAt = Number.NEGATIVE_INFINITY;
  /** New points taken in since the last draw. */
  private undrawn = false;

  /** The chart took in new points (or dropped old ones) at `now`. */
  changed(): void {
    this.undrawn = true;
  }

  /** The chart drew everything it holds at `now` (ms, the page's clock). */
  drawn(now: number): void {
    this.drawnAt = now;
    this.undrawn = false;
  }

  /** When the new points must be drawn by (ms), or null when everything held is drawn. */
  dueAt(columnMs: number): number | null {
    return this.undrawn ? this.drawnAt + Math.min(MAX_UNDRAWN_MS, Math.max(0, columnMs)) : null;
  }

  /** True when the chart has new points and a column's time has passed since it last drew (or will within `togetherMs`). */
  due(now: number, columnMs: number, togetherMs = 0): boolean {
    const at = this.dueAt(columnMs);
    return at !== null && now + togetherMs >= at;
  }
}

/** The time one pixel column of the plot spans, ms (0 before anything is drawn: draw at once). */
export function columnMs(spanMs: number, plotWidthPx: number): number {
  if (!(spanMs > 0) || !(plotWidthPx > 0)) return 0;
  return spanMs / plotWidthPx;
}
