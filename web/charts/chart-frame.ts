import type { Level } from '../../server/protocol.js';
import type { Point } from './decimate.js';
import type { FormatterName } from './formatters.js';

/** A span of time a rule fired, drawn as a vertical band over every chart. */
export interface FiringSpan {
  from: number;
  /** null: still firing (the band reaches the chart's right edge). */
  to: number | null;
  severity: 'warning' | 'critical';
}

/** What a chart is, fixed when it is made: everything in it can be posted to a worker (no functions). */
export interface ChartSpec {
  lines: { label: string; fill: boolean }[];
  stacked: boolean;
  yMax?: number;
  /** The y ticks' and tooltips' formatter, by name. */
  format: FormatterName;
  /** Chart.js's font size in CSS px (the kiosk scales it with the screen); Chart.js's default when absent. */
  fontSize?: number;
}

/** The theme's colours, resolved from the page's CSS variables (a worker has no CSS). */
export interface ChartColors {
  lines: string[];
  text: string;
  grid: string;
  warning: string;
  critical: string;
}

export interface ChartSize {
  /** CSS px. */
  width: number;
  height: number;
  devicePixelRatio: number;
}

/** Points as columns: `y` NaN is a gap (no line drawn across it); `v` a stacked line's own values. */
export interface PackedPoints {
  x: Float64Array;
  y: Float64Array;
  v: Float64Array | null;
}

/** A line's min–max band as columns, one row per time: `low` or `high` NaN is a gap (no band drawn across it). */
export interface PackedBand {
  x: Float64Array;
  low: Float64Array;
  high: Float64Array;
}

/** One draw of one chart: the points of each line (and its min–max band) and what is shaded behind them. */
export interface ChartFrame {
  min: number;
  max: number;
  lines: { points: PackedPoints; band: PackedBand | null }[];
  level: Level | null;
  firing: FiringSpan[];
}

/** Where the plot area is on the canvas and the x range it shows, as drawn: pixels to times and back. */
export interface ChartLayout {
  left: number;
  right: number;
  top: number;
  bottom: number;
  min: number;
  max: number;
}

/** The datasets as the chart holds them (tests compare the worker's with the main thread's), and its painted pixels. */
export interface ChartSnapshot {
  /** One per line. */
  datasets: { label: string; points: [number, number | null][]; hidden: boolean }[];
  /** Each line's min–max band as drawn behind it, `[x, low, high]` (null: a gap); no rows when live. Hidden with its line. */
  bands: { label: string; rows: [number, number | null, number | null][] }[];
  /** The plot area (canvas px) and the values at its edges: tests find where a value is drawn. */
  plot: ChartLayout & { yMin: number; yMax: number };
  /** The legend's items, as Chart.js hit-tests them: canvas px `[left, top, width, height]`. */
  legend: [number, number, number, number][];
  /** The canvas's own pixels, width and height: its CSS size times the device pixel ratio it was drawn for. */
  backing: [number, number];
  /** Pixels of the canvas not fully transparent: a canvas handed to the worker cannot be read from the page. */
  paintedPixels: number;
}

/** What a chart not drawn yet holds. */
export const EMPTY_SNAPSHOT: ChartSnapshot = {
  datasets: [],
  bands: [],
  plot: { left: 0, right: 0, top: 0, bottom: 0, min: 0, max: 0, yMin: 0, yMax: 0 },
  legend: [],
  backing: [0, 0],
  paintedPixels: 0,
};

export type PointerKind = 'move' | 'leave' | 'click';

export function pack(points: readonly Point[], stacked: boolean): PackedPoints {
  const x = new Float64Array(points.length);
  const y = new Float64Array(points.length);
  const v = stacked ? new Float64Array(points.length) : null;
  points.forEach((point, i) => {
    x[i] = point.x;
    y[i] = point.y ?? Number.NaN;
    if (v) v[i] = point.v ?? point.y ?? Number.NaN;
  });
  return { x, y, v };
}

export function unpack(packed: PackedPoints): Point[] {
  const points: Point[] = new Array(packed.x.length);
  for (let i = 0; i < packed.x.length; i++) {
    const y = packed.y[i] as number;
    const point: Point = { x: packed.x[i] as number, y: Number.isNaN(y) ? (null as unknown as number) : y };
    if (packed.v) point.v = packed.v[i] as number;
    points[i] = point;
  }
  return points;
}

/**
 * Where a gap is marked between two consecutive times (halfway), or null when they are no more than `gapMs`
 * apart: one rule for a line and its band, so the band breaks where its line does.
 */
export function gapMarkBetween(before: number | undefined, t: number, gapMs: number): number | null {
  return before !== undefined && t - before > gapMs ? (before + t) / 2 : null;
}

/**
 * A line's band from its rows' minimums and maximums (each in time order), joined by time: a time only one of
 * them has is a gap, and so are rows further apart than `gapMs` (a NaN row between them, as `withGaps` puts
 * in the line), so the band breaks where its line does.
 */
export function packBand(low: readonly { x: number; y: number }[], high: readonly { x: number; y: number }[], gapMs: number): PackedBand {
  const x: number[] = [];
  const lows: number[] = [];
  const highs: number[] = [];
  const add = (t: number, min: number, max: number) => {
    const gap = gapMarkBetween(x.at(-1), t, gapMs);
    if (gap !== null) {
      x.push(gap);
      lows.push(Number.NaN);
      highs.push(Number.NaN);
    }
    x.push(t);
    lows.push(min);
    highs.push(max);
  };
  let i = 0;
  let j = 0;
  while (i < low.length || j < high.length) {
    const min = low[i];
    const max = high[j];
    if (min && max && min.x === max.x) {
      add(min.x, min.y, max.y);
      i++;
      j++;
    } else if (min && (!max || min.x < max.x)) {
      add(min.x, min.y, Number.NaN);
      i++;
    } else if (max) {
      add(max.x, Number.NaN, max.y);
      j++;
    }
  }
  return { x: Float64Array.from(x), low: Float64Array.from(lows), high: Float64Array.from(highs) };
}

/** The frame's buffers, to transfer rather than copy. */
export function buffersOf(frame: ChartFrame): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  const add = (packed: PackedPoints | null) => {
    if (!packed) return;
    buffers.push(packed.x.buffer as ArrayBuffer, packed.y.buffer as ArrayBuffer);
    if (packed.v) buffers.push(packed.v.buffer as ArrayBuffer);
  };
  for (const line of frame.lines) {
    add(line.points);
    if (line.band)
      buffers.push(line.band.x.buffer as ArrayBuffer, line.band.low.buffer as ArrayBuffer, line.band.high.buffer as ArrayBuffer);
  }
  return buffers;
}

/** Messages from the page to the chart worker. */
export type ToWorker =
  | { type: 'create'; id: number; canvas: OffscreenCanvas; spec: ChartSpec; size: ChartSize }
  | { type: 'resize'; id: number; size: ChartSize }
  | { type: 'colors'; id: number; colors: ChartColors }
  | { type: 'frame'; id: number; seq: number; frame: ChartFrame }
  | { type: 'pointer'; id: number; request: number; kind: PointerKind; x: number; y: number }
  | { type: 'snapshot'; id: number; request: number }
  | { type: 'destroy'; id: number };

/** Messages from the chart worker to the page. */
export type FromWorker =
  | { type: 'drawn'; id: number; seq: number; layout: ChartLayout }
  | { type: 'pointer'; id: number; request: number; tooltip: string[] | null }
  | { type: 'snapshot'; id: number; request: number; snapshot: ChartSnapshot }
  | { type: 'error'; message: string };
