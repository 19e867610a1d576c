import { readFileSync } from 'node:fs';
import { createServer, Server as HttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { getRequestListener } from '@hono/node-server';
import { applyTimeouts, type ConnectionTimeouts, connectionTimeouts } from '../lib/connection-timeouts.js';
import { MAX_HEADER_BYTES } from './bounds.js';
import { RequestDeadlines } from './request-deadlines.js';

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
  const timeouts = connectionTimeouts(config.heartbeatMs, timeoutOverrides);
  applyTimeouts(server, timeouts);
  // Every socket, so that close() can end keep-alive and HTTP/2 sessions too (http2 has no closeAllConnections),
  // with its HTTP/1.1 headers and request deadlines (an HTTP/2 session has none: its idle timeout ends it).
  const sockets = new Map<Socket, RequestDeadlines | null>();
  // One listener for every socket (Node calls it with the socket as `this`): a closure and a once() wrapper
  // per socket cost each held stream ~0.2 KiB.
  const forget = function (this: Socket) {
    sockets.get(this)?.dispose();
    sockets.delete(this);
  };
  server.on(server instanceof HttpServer ? 'connection' : 'secureConnection', (socket: Socket) => {
    const http2 = (socket as TLSSocket).alpnProtocol === 'h2';
    sockets.set(socket, http2 ? null : new RequestDeadlines(socket, timeouts));
    socket.on('close', forget);
  });
  // Before the app's listener, so that a response it ends at once is still seen to end.
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.httpVersionMajor === 1) sockets.get(request.socket)?.received(request, response);
  });
  const dropConnections = () => {
    for (const socket of sockets.keys()) socket.destroy();
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
