import type { TimeChart, ZoomHandler } from './time-chart.js';

/** Drags shorter than this are clicks (a tooltip), not a range. */
const MIN_DRAG_PX = 6;

/**
 * Drag across a chart to choose a range: a shaded box follows the pointer, and on release the times
 * under its two edges go to `onZoom` (every chart then shows that range).
 */
export function attachDragZoom(frame: HTMLElement, canvas: HTMLCanvasElement, chart: TimeChart, onZoom: ZoomHandler): void {
  const box = document.createElement('div');
  box.className = 'zoom-box';
  box.hidden = true;
  frame.append(box);
  let startX: number | null = null;
  const xOf = (event: PointerEvent) => event.clientX - canvas.getBoundingClientRect().left;
  const show = (a: number, b: number) => {
    box.hidden = false;
    box.style.left = `${Math.min(a, b)}px`;
    box.style.width = `${Math.abs(b - a)}px`;
  };
  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    startX = xOf(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (startX === null) return;
    show(startX, xOf(event));
  });
  const finish = (event: PointerEvent, apply: boolean) => {
    if (startX === null) return;
    const endX = xOf(event);
    const from = Math.min(startX, endX);
    const to = Math.max(startX, endX);
    startX = null;
    box.hidden = true;
    // The pixels are read against the frame drawn last: in the worker, drawing is a message away.
    if (apply && to - from >= MIN_DRAG_PX)
      void chart.settled().then(() => onZoom(Math.round(chart.timeAt(from)), Math.round(chart.timeAt(to))));
  };
  canvas.addEventListener('pointerup', (event) => finish(event, true));
  canvas.addEventListener('pointercancel', (event) => finish(event, false));
}
