const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 60;
const HEIGHT = 16;

/** A line of recent values, small enough for a table cell: one SVG polyline, redrawn by setting its points. */
export class Sparkline {
  readonly root: SVGSVGElement;
  private readonly line: SVGPolylineElement;

  constructor(label: string) {
    this.root = document.createElementNS(SVG, 'svg');
    this.root.setAttribute('class', 'sparkline');
    this.root.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    this.root.setAttribute('preserveAspectRatio', 'none');
    this.root.setAttribute('role', 'img');
    this.root.setAttribute('aria-label', label);
    this.line = document.createElementNS(SVG, 'polyline');
    this.root.append(this.line);
  }

  /** `values` oldest first, drawn against 0..`max` across the full width of `slots` points. */
  draw(values: readonly number[], max: number, slots: number): void {
    const step = WIDTH / Math.max(1, slots - 1);
    const offset = (slots - values.length) * step;
    const top = max > 0 ? max : 1;
    const points = values
      .map((value, i) => `${(offset + i * step).toFixed(1)},${(HEIGHT - (Math.min(value, top) / top) * (HEIGHT - 1) - 0.5).toFixed(1)}`)
      .join(' ');
    if (this.line.getAttribute('points') !== points) this.line.setAttribute('points', points);
    this.root.dataset.points = String(values.length);
  }
}
