/** What NodeResponseSink needs of `http.ServerResponse` or `http2.Http2ServerResponse`. */
export interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(): unknown;
  readonly writableLength: number;
  on(event: 'close' | 'error', listener: () => void): unknown;
  flushHeaders?(): void;
}

/** Where a stream's bytes go. `write` returns false once the sink has been closed or dropped. */
export interface SseSink {
  /** Writes the handshake; its size is added to the bound, so a long replay is not mistaken for a slow client. */
  begin(handshake: Buffer): boolean;
  write(bytes: Buffer): boolean;
  end(): void;
  onClose(listener: () => void): void;
}

export const SSE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/** Tracks the one transition to closed and tells the listeners once. */
abstract class ClosableSink implements SseSink {
  protected closed = false;
  protected handshakeBytes = 0;
  /** Replaced, not pushed to: a pushed-to array reserves 17 slots, ~150 bytes for every client held. */
  private listeners: readonly (() => void)[] = [];

  begin(handshake: Buffer): boolean {
    this.handshakeBytes = handshake.length;
    return this.write(handshake);
  }

  abstract write(bytes: Buffer): boolean;
  abstract end(): void;

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.listeners = [...this.listeners, listener];
  }

  protected markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}

/**
 * Writes straight to the Node response: one shared Buffer per event for every client, no per-client
 * Web Stream (docs/architecture.md, "Measured facts"). A client whose unsent bytes pass `maxBufferedBytes`
 * is dropped; it reconnects and resumes from its last id.
 */
export class NodeResponseSink extends ClosableSink {
  constructor(
    private readonly response: NodeResponse,
    private readonly maxBufferedBytes: number,
    headers: Record<string, string>,
  ) {
    super();
    const onClosed = () => this.markClosed();
    // The response, not the request (a request-only listener leaks): Node emits the response's 'close' when
    // its socket (HTTP/1.1) or its stream (HTTP/2) closes, so no listener on those is needed as well; each
    // one cost every client memory.
    response.on('close', onClosed);
    response.on('error', onClosed);
    // writeHead with the headers, not setHeader: set headers are kept on the response for its whole life,
    // an object and an array per header for every client (a heap snapshot of 2 000 clients).
    response.writeHead(200, headers);
    // Send the headers now: a quiet stream must still look open to the client.
    response.flushHeaders?.();
  }

  write(bytes: Buffer): boolean {
    if (this.closed) return false;
    this.response.write(bytes);
    if (this.response.writableLength > this.maxBufferedBytes + this.handshakeBytes) {
      this.response.destroy();
      this.markClosed();
      return false;
    }
    return true;
  }

  end(): void {
    if (this.closed) return;
    this.response.end();
    this.markClosed();
  }
}

/**
 * The portable path for runtimes without a Node response (or Hono's `app.request()` in tests):
 * a byte stream whose queue is bounded the same way.
 */
export class WebStreamSink extends ClosableSink {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;

  constructor(maxBufferedBytes: number) {
    super();
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        cancel: () => this.markClosed(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: maxBufferedBytes }),
    );
  }

  write(bytes: Buffer): boolean {
    if (this.closed) return false;
    this.controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if ((this.controller.desiredSize ?? 0) < -this.handshakeBytes) {
      this.controller.error(new Error('client too slow'));
      this.markClosed();
      return false;
    }
    return true;
  }

  end(): void {
    if (this.closed) return;
    this.controller.close();
    this.markClosed();
  }
}
