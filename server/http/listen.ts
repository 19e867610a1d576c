import { readFileSync } from 'node:fs';
import { createServer, Server as HttpServer, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { getRequestListener } from '@hono/node-server';
import { MAX_HEADER_BYTES } from './bounds.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Both set: HTTPS with HTTP/2 (and HTTP/1.1 by ALPN). */
  tlsCert?: string | null;
  tlsKey?: string | null;
  /** The streams' heartbeat: a connection is called idle only once two heartbeats could have gone by. */
  heartbeatMs: number;
}

/** The same on every listener: plain HTTP/1.1, HTTP/1.1 over TLS, and HTTP/2 sessions. */
export interface ConnectionTimeouts {
  /** From the connection (or the end of the previous request) to the end of the request's headers. */
  headersMs: number;
  /**
   * From the start of a request to the end of its body (bodies are at most 16 KiB). A request without a
   * body, an event stream's included, is complete with its headers: the time its response takes is free.
   */
  requestMs: number;
  /** An HTTP/1.1 connection waiting for its next request. */
  keepAliveMs: number;
  /** A connection or HTTP/2 session with no byte in either direction; streams send a heartbeat, so they never are. */
  idleMs: number;
  /** How often Node looks for requests past headersMs or requestMs. */
  checkEveryMs: number;
}

/** Idle connections and sessions are closed after 2 heartbeats, and never sooner than this. */
const MIN_IDLE_MS = 60_000;

export function connectionTimeouts(heartbeatMs: number, overrides: Partial<ConnectionTimeouts> = {}): ConnectionTimeouts {
  return {
    headersMs: 10_000,
    requestMs: 30_000,
    keepAliveMs: 5_000,
    idleMs: Math.max(MIN_IDLE_MS, 2 * heartbeatMs),
    checkEveryMs: 1_000,
    ...overrides,
  };
}

export interface Listening {
  server: Server | Http2SecureServer;
  /** Cuts every open connection (tests use it to force a reconnect). */
  dropConnections(): void;
  /** e.g. http://127.0.0.1:3000/ */
  url: string;
  port: number;
  /** Stops accepting, and ends every connection. */
  close(): Promise<void>;
}

/** A listen failure with a message fit for one line on the console. */
export class ListenError extends Error {}

export type RequestListener = ReturnType<typeof getRequestListener>;

export async function listen(
  config: ListenOptions,
  listener: RequestListener,
  timeoutOverrides: Partial<ConnectionTimeouts> = {},
): Promise<Listening> {
  const server =
    config.tlsCert && config.tlsKey
      ? createTlsServer(config.tlsCert, config.tlsKey, listener)
      : createServer({ maxHeaderSize: MAX_HEADER_BYTES }, listener);
  applyTimeouts(server, connectionTimeouts(config.heartbeatMs, timeoutOverrides));
  // Every socket, so that close() can end keep-alive and HTTP/2 sessions too (http2 has no closeAllConnections).
  const sockets = new Set<Socket>();
  server.on(server instanceof HttpServer ? 'connection' : 'secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };

  const { host, port } = config;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new ListenError(`port ${port} on ${host} is already in use (choose another with --port)`));
      else if (error.code === 'EADDRNOTAVAIL') reject(new ListenError(`cannot bind to ${host}: no such address on this machine`));
      else if (error.code === 'EACCES') reject(new ListenError(`no permission to listen on ${host}:${port}`));
      else reject(new ListenError(`cannot listen on ${host}:${port}: ${error.message}`));
    });
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port: actualPort,
    dropConnections,
    url: urlOf(host, actualPort, server instanceof HttpServer ? 'http' : 'https'),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropConnections();
      });
      return closing;
    },
  };
}

/**
 * Node reads these properties on every HTTP/1.1 connection, plain or over TLS (`allowHTTP1`), and takes
 * `timeout` as the idle timeout of each HTTP/2 session too; with no 'timeout' listener it destroys the
 * connection. Set before listen(): the check interval is read when the server starts listening.
 */
function applyTimeouts(server: Server | Http2SecureServer, timeouts: ConnectionTimeouts): void {
  const http1 = server as Server;
  http1.headersTimeout = timeouts.headersMs;
  http1.requestTimeout = timeouts.requestMs;
  http1.keepAliveTimeout = timeouts.keepAliveMs;
  (http1 as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = timeouts.checkEveryMs;
  server.setTimeout(timeouts.idleMs);
}

export function urlOf(host: string, port: number, scheme = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/** HTTPS with HTTP/2, and HTTP/1.1 for clients that ask for it by ALPN. Bad PEM ends start-up with one line. */
function createTlsServer(certPath: string, keyPath: string, listener: RequestListener): Http2SecureServer {
  const cert = readFileSync(certPath);
  const key = readFileSync(keyPath);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ListenError(`--tls-cert ${certPath} / --tls-key ${keyPath}: not a usable PEM certificate and key (${reason})`);
  }
  return createSecureServer({ cert, key, allowHTTP1: true, settings: { maxHeaderListSize: MAX_HEADER_BYTES } }, listener);
}
