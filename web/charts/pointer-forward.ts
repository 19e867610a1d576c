import type { ChartSurface } from './chart-surface.js';

/**
 * Chart.js gets no DOM events (in the worker it has no DOM): the pointer over a canvas is forwarded to its
 * surface, at most once per animation frame, and the tooltip it shows comes back to `show`.
 */
export function forwardPointer(canvas: HTMLCanvasElement, surface: ChartSurface, show: (tooltip: string[] | null) => void): void {
  let at: { x: number; y: number } | null = null;
  let frameAsked = false;
  canvas.addEventListener('pointermove', (event) => {
    at = { x: event.offsetX, y: event.offsetY };
    if (frameAsked) return;
    frameAsked = true;
    requestAnimationFrame(() => {
      frameAsked = false;
      const point = at;
      at = null;
      if (point) void surface.pointer('move', point.x, point.y).then(show);
    });
  });
  canvas.addEventListener('pointerleave', (event) => {
    at = null;
    void surface.pointer('leave', event.offsetX, event.offsetY).then(show);
  });
  canvas.addEventListener('click', (event) => {
    void surface.pointer('click', event.offsetX, event.offsetY).then(show);
  });
}
