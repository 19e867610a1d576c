import { type ChartFrame, EMPTY_SNAPSHOT, type FromWorker, type ToWorker } from './chart-frame.js';
import { ChartRenderer } from './chart-renderer.js';

/**
 * The chart worker: every chart of the page is drawn here, on the OffscreenCanvas its canvas element handed
 * over. Frames that arrive while others wait are merged (only the newest of each chart is drawn).
 */
/** The worker's global scope (the project's TypeScript sees the DOM's `self`, whose postMessage differs). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;
const charts = new Map<number, ChartRenderer>();
const waiting = new Map<number, { seq: number; frame: ChartFrame }>();
let flushQueued = false;

const reply = (message: FromWorker) => scope.postMessage(message);

function flush(): void {
  flushQueued = false;
  for (const [id, { seq, frame }] of waiting) {
    waiting.delete(id);
    const chart = charts.get(id);
    if (chart) reply({ type: 'drawn', id, seq, layout: chart.draw(frame) });
  }
}

function handle(message: ToWorker): void {
  switch (message.type) {
    case 'create':
      charts.set(message.id, new ChartRenderer(message.canvas, message.spec, message.size));
      return;
    case 'resize':
      charts.get(message.id)?.resize(message.size);
      return;
    case 'colors':
      charts.get(message.id)?.setColors(message.colors);
      return;
    case 'frame':
      waiting.set(message.id, { seq: message.seq, frame: message.frame });
      if (!flushQueued) {
        flushQueued = true;
        setTimeout(flush, 0);
      }
      return;
    case 'pointer': {
      flush();
      const tooltip = charts.get(message.id)?.pointer(message.kind, message.x, message.y) ?? null;
      reply({ type: 'pointer', id: message.id, request: message.request, tooltip });
      return;
    }
    case 'snapshot':
      flush();
      reply({
        type: 'snapshot',
        id: message.id,
        request: message.request,
        snapshot: charts.get(message.id)?.snapshot() ?? EMPTY_SNAPSHOT,
      });
      return;
    case 'destroy':
      charts.get(message.id)?.destroy();
      charts.delete(message.id);
      waiting.delete(message.id);
      return;
  }
}

scope.onmessage = (event) => {
  try {
    handle(event.data);
  } catch (error) {
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};
