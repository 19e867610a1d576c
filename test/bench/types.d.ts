// The peer's packages ship no types; only what the bench calls is declared.

declare module 'express-status-monitor' {
  import type { RequestHandler } from 'express';

  interface Span {
    interval: number;
    retention: number;
  }
  interface StatusMonitorConfig {
    path?: string;
    spans?: Span[];
    /** A socket.io server of the app's own; by default one is made on the first request's server. */
    websocket?: unknown;
  }
  export default function statusMonitor(config?: StatusMonitorConfig): RequestHandler;
}

declare module 'socket.io' {
  import type { Server as HttpServer } from 'node:http';

  interface IoServer {
    emit(event: string, ...args: unknown[]): boolean;
    engine: { clientsCount: number };
  }
  export default function createServer(server: HttpServer): IoServer;
}

declare module 'socket.io-client' {
  interface ClientSocket {
    on(event: string, listener: (...args: never[]) => void): ClientSocket;
    close(): void;
    connected: boolean;
  }
  interface ClientOptions {
    forceNew?: boolean;
    transports?: string[];
    reconnection?: boolean;
    timeout?: number;
    localAddress?: string;
  }
  export default function connect(url: string, options?: ClientOptions): ClientSocket;
}
