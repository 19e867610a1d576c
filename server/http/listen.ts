import { readFileSync } from 'node:fs';
import { createServer, Server as HttpServer, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { getRequestListener } from '@hono/node-server';
import { applyTimeouts, type ConnectionTimeouts, connectionTimeouts } from '../lib/connection-timeouts.js';
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
  // One listener for every socket (Node calls it with the socket as `this`): a closure and a once() wrapper
  // per socket cost each held stream ~0.2 KiB.
  const forget = function (this: Socket) {
    sockets.delete(this);
  };
  server.on(server instanceof HttpServer ? 'connection' : 'secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', forget);
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
