/** `y` is what is drawn; on a stacked chart it is the running sum and `v` the line's own value. */
export type Point = { x: number; y: number; v?: number };

/** Pixels of chart width per bucket, at most: each bucket is drawn as its lowest and highest point. */
export const MAX_BUCKET_PX = 4;

/**
 * The bucket width in ms for `spanMs` drawn over `widthPx`: a power of two, so that buckets stay aligned to
 * absolute time (a scrolling chart keeps its buckets) and only change when the span doubles or halves.
 * Each bucket covers between MAX_BUCKET_PX / 2 and MAX_BUCKET_PX pixels; 1 ms when nothing needs merging.
 */
export function bucketMsFor(spanMs: number, widthPx: number): number {
  const ideal = (spanMs * MAX_BUCKET_PX) / Math.max(1, widthPx);
  return ideal < 2 ? 1 : 2 ** Math.floor(Math.log2(ideal));
}

/** The points that stand for one bucket, in time order, each once. */
function pick(points: (Point | undefined)[]): Point[] {
  const unique: Point[] = [];
  for (const point of points) if (point && !unique.includes(point)) unique.push(point);
  return unique.sort((a, b) => a.x - b.x);
}

/**
 * Min-max decimation of one line, kept up to date as points are appended and the oldest dropped: each
 * time bucket is drawn as its lowest and highest point (real samples, so tooltips show real values), and the
 * open (newest) bucket also as its newest point, so the line reaches the latest sample. Appending costs what
 * arrived; only a change of bucket width re-reads the whole line.
 */
export class MinMaxDecimator {
  /**
   * What the chart draws. Chart.js gets a copy per draw: it watches the array it is given and does work on
   * every push and splice, which for a rebuild of an hour of points cost most of the first paint.
   */
  readonly drawn: Point[] = [];
  private bucketMs = 0;
  private lastX = Number.NEGATIVE_INFINITY;
  private tail: { id: number; start: number; min: Point; max: Point; last: Point } | null = null;

  /** Brings `drawn` in line with `points` (time-ordered; new ones appended, old ones dropped from the front). */
  sync(points: readonly Point[], bucketMs: number): void {
    if (bucketMs !== this.bucketMs || (points[0] !== undefined && points[0].x > this.lastX)) {
      this.rebuild(points, bucketMs);
      return;
    }
    let from = points.length;
    while (from > 0 && (points[from - 1] as Point).x > this.lastX) from--;
    for (let i = from; i < points.length; i++) this.add(points[i] as Point);
    this.dropBefore(points[0]?.x ?? Number.POSITIVE_INFINITY, points);
  }

  /**
   * Starts again from `points` (after a reload of the line, or a new bucket width). The closed buckets are
   * written once each, in one pass (an hour of points at the first paint: `add` rewrites the open bucket
   * on every point); the newest bucket stays open through `add`.
   */
  rebuild(points: readonly Point[], bucketMs: number): void {
    this.bucketMs = bucketMs;
    this.lastX = Number.NEGATIVE_INFINITY;
    this.tail = null;
    this.drawn.length = 0;
    let start = 0;
    while (start < points.length) {
      const first = points[start] as Point;
      const id = Math.floor(first.x / bucketMs);
      let min = first;
      let max = first;
      let end = start + 1;
      for (; end < points.length; end++) {
        const point = points[end] as Point;
        if (Math.floor(point.x / bucketMs) !== id) break;
        if (point.y < min.y) min = point;
        if (point.y > max.y) max = point;
      }
      if (end === points.length) {
        for (let i = start; i < end; i++) this.add(points[i] as Point);
        return;
      }
      this.drawn.push(...pick([min, max]));
      this.lastX = (points[end - 1] as Point).x;
      start = end;
    }
  }

  private add(point: Point): void {
    const id = Math.floor(point.x / this.bucketMs);
    const tail = this.tail;
    this.lastX = point.x;
    if (!tail || tail.id !== id) {
      // The bucket before is closed: its newest point was only there to reach the latest sample.
      if (tail) this.drawn.splice(tail.start, this.drawn.length - tail.start, ...pick([tail.min, tail.max]));
      this.tail = { id, start: this.drawn.length, min: point, max: point, last: point };
      this.drawn.push(point);
      return;
    }
    if (point.y < tail.min.y) tail.min = point;
    if (point.y > tail.max.y) tail.max = point;
    tail.last = point;
    this.drawn.splice(tail.start, this.drawn.length - tail.start, ...pick([tail.min, tail.max, tail.last]));
  }

  private dropBefore(cutoff: number, points: readonly Point[]): void {
    let drop = 0;
    while (drop < this.drawn.length && (this.drawn[drop] as Point).x < cutoff) drop++;
    if (drop === 0) return;
    // Dropping into the open bucket would leave it standing for points no longer held: start again.
    if (this.tail && drop > this.tail.start) {
      this.rebuild(points, this.bucketMs);
      return;
    }
    this.drawn.splice(0, drop);
    if (this.tail) this.tail.start -= drop;
  }
}
