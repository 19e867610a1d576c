import type { EventSourceLike } from '../../web/stream.js';

/** Stands in for the browser's EventSource in unit tests of web/stream.ts: the test plays the server. */
export class FakeEventSource implements EventSourceLike {
  readyState = 0;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  /** Delivers an event whose data is `data` as JSON (or as is, when it is a string and `raw`). */
  emit(type: string, data: unknown, lastEventId = '', raw = false): void {
    const text = raw ? String(data) : JSON.stringify(data);
    for (const listener of this.listeners.get(type) ?? []) listener({ data: text, lastEventId } as MessageEvent<string>);
  }

  fail(): void {
    this.onerror?.(new Event('error'));
  }
}
