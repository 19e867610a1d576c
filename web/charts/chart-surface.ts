import {
  buffersOf,
  type ChartColors,
  type ChartFrame,
  type ChartLayout,
  type ChartSize,
  type ChartSnapshot,
  type ChartSpec,
  EMPTY_SNAPSHOT,
  type FromWorker,
  type PointerKind,
  type ToWorker,
} from './chart-frame.js';
import type { ChartRenderer } from './chart-renderer.js';

/**
 * Where a chart is drawn: in the chart worker (its canvas handed over with `transferControlToOffscreen`) or,
 * where that is missing, on the main thread. Both run the same `ChartRenderer`; this is the page's side.
 */
export interface ChartSurface {
  readonly mode: 'worker' | 'main';
  resize(size: ChartSize): void;
  setColors(colors: ChartColors): void;
  draw(frame: ChartFrame): void;
  /** The tooltip's lines at this pointer position (CSS px over the canvas), or null. */
  pointer(kind: PointerKind, x: number, y: number): Promise<string[] | null>;
  /** Resolves once every frame sent so far is drawn (frames sent later do not delay it). */
  settled(): Promise<void>;
  /** The plot area and x range of the newest drawn frame (null before the first). */
  readonly layout: ChartLayout | null;
  snapshot(): Promise<ChartSnapshot>;
  destroy(): void;
}

/** True where charts can be drawn in a worker: OffscreenCanvas, the canvas's hand-over, and workers. */
export function canDrawInWorker(): boolean {
  return (
    typeof Worker === 'function' &&
    typeof OffscreenCanvas === 'function' &&
    typeof HTMLCanvasElement.prototype.transferControlToOffscreen === 'function'
  );
}

/** The one worker every chart of the page is drawn in, made with the first chart. */
class ChartWorker {
  private readonly worker = new Worker(new URL('./chart-worker.ts', import.meta.url), { type: 'module', name: 'pulseboard-charts' });
  private readonly surfaces = new Map<number, WorkerSurface>();
  private nextId = 1;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === 'error') {
        console.error(`chart worker: ${message.message}`);
        return;
      }
      this.surfaces.get(message.id)?.receive(message);
    };
  }

  add(surface: WorkerSurface): number {
    const id = this.nextId++;
    this.surfaces.set(id, surface);
    return id;
  }

  remove(id: number): void {
    this.surfaces.delete(id);
  }

  post(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}

let sharedWorker: ChartWorker | null = null;

/**
 * Starts the chart worker (its script fetched and Chart.js parsed in it) while the page still waits for the
 * stream's first events, instead of when the first chart is made. Nothing where charts draw on the main thread.
 */
export function startChartWorker(): void {
  if (canDrawInWorker()) sharedWorker ??= new ChartWorker();
}

class WorkerSurface implements ChartSurface {
  readonly mode = 'worker';
  layout: ChartLayout | null = null;
  private readonly worker: ChartWorker;
  private readonly id: number;
  private sent = 0;
  private drawn = 0;
  /** Callers of settled(), each with the frame it waits for (later frames do not keep it waiting). */
  private waiting: { seq: number; resolve: () => void }[] = [];
  private requests = 0;
  private readonly answers = new Map<number, (message: FromWorker) => void>();

  constructor(canvas: HTMLCanvasElement, spec: ChartSpec, size: ChartSize) {
    sharedWorker ??= new ChartWorker();
    this.worker = sharedWorker;
    this.id = this.worker.add(this);
    const offscreen = canvas.transferControlToOffscreen();
    this.worker.post({ type: 'create', id: this.id, canvas: offscreen, spec, size }, [offscreen]);
  }

  resize(size: ChartSize): void {
    this.worker.post({ type: 'resize', id: this.id, size });
  }

  setColors(colors: ChartColors): void {
    this.worker.post({ type: 'colors', id: this.id, colors });
  }

  draw(frame: ChartFrame): void {
    this.sent++;
    this.worker.post({ type: 'frame', id: this.id, seq: this.sent, frame }, buffersOf(frame));
  }

  pointer(kind: PointerKind, x: number, y: number): Promise<string[] | null> {
    return this.ask<string[] | null>({ type: 'pointer', id: this.id, request: 0, kind, x, y }, (message) =>
      message.type === 'pointer' ? message.tooltip : null,
    );
  }

  snapshot(): Promise<ChartSnapshot> {
    return this.ask<ChartSnapshot>({ type: 'snapshot', id: this.id, request: 0 }, (message) =>
      message.type === 'snapshot' ? message.snapshot : EMPTY_SNAPSHOT,
    );
  }

  settled(): Promise<void> {
    if (this.drawn >= this.sent) return Promise.resolve();
    const seq = this.sent;
    return new Promise((resolve) => this.waiting.push({ seq, resolve }));
  }

  destroy(): void {
    this.worker.post({ type: 'destroy', id: this.id });
    this.worker.remove(this.id);
    for (const { resolve } of this.waiting.splice(0)) resolve();
  }

  receive(message: FromWorker): void {
    if (message.type === 'drawn') {
      this.drawn = message.seq;
      this.layout = message.layout;
      const done = this.waiting.filter((waiter) => waiter.seq <= this.drawn);
      this.waiting = this.waiting.filter((waiter) => waiter.seq > this.drawn);
      for (const { resolve } of done) resolve();
      return;
    }
    if (message.type === 'pointer' || message.type === 'snapshot') {
      this.answers.get(message.request)?.(message);
      this.answers.delete(message.request);
    }
  }

  private ask<T>(message: Extract<ToWorker, { request: number }>, read: (answer: FromWorker) => T): Promise<T> {
    const request = ++this.requests;
    return new Promise((resolve) => {
      this.answers.set(request, (answer) => resolve(read(answer)));
      this.worker.post({ ...message, request });
    });
  }
}

/**
 * The main-thread path: the renderer module (and Chart.js with it) is loaded on first use, so a page that
 * draws in the worker never parses Chart.js on its main thread. Until it is loaded, the newest size and frame wait.
 */
class MainThreadSurface implements ChartSurface {
  readonly mode = 'main';
  layout: ChartLayout | null = null;
  private renderer: ChartRenderer | null = null;
  private pendingFrame: ChartFrame | null = null;
  private colors: ChartColors | null = null;
  private destroyed = false;
  private readonly loaded: Promise<void>;

  constructor(
    canvas: HTMLCanvasElement,
    spec: ChartSpec,
    private size: ChartSize,
  ) {
    this.loaded = import('./chart-renderer.js').then(({ ChartRenderer }) => {
      if (this.destroyed) return;
      this.renderer = new ChartRenderer(canvas, spec, this.size);
      if (this.colors) this.renderer.setColors(this.colors);
      if (this.pendingFrame) this.draw(this.pendingFrame);
    });
  }

  resize(size: ChartSize): void {
    this.size = size;
    this.renderer?.resize(size);
  }

  setColors(colors: ChartColors): void {
    this.colors = colors;
    this.renderer?.setColors(colors);
  }

  draw(frame: ChartFrame): void {
    if (!this.renderer) {
      this.pendingFrame = frame;
      return;
    }
    this.pendingFrame = null;
    this.layout = this.renderer.draw(frame);
  }

  async pointer(kind: PointerKind, x: number, y: number): Promise<string[] | null> {
    await this.loaded;
    return this.renderer?.pointer(kind, x, y) ?? null;
  }

  settled(): Promise<void> {
    return this.loaded;
  }

  async snapshot(): Promise<ChartSnapshot> {
    await this.loaded;
    return this.renderer?.snapshot() ?? EMPTY_SNAPSHOT;
  }

  destroy(): void {
    this.destroyed = true;
    this.renderer?.destroy();
  }
}

/** A surface for this canvas: the worker where the browser can hand a canvas to one, else the main thread. */
export function createSurface(canvas: HTMLCanvasElement, spec: ChartSpec, size: ChartSize): ChartSurface {
  return canDrawInWorker() ? new WorkerSurface(canvas, spec, size) : new MainThreadSurface(canvas, spec, size);
}
