import { readFileSync } from 'node:fs';
import { createServer, Server as HttpServer, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { getRequestListener } from '@hono/node-server';
import { type AppOptions, createApp } from './app.js';
import type { Config } from './config.js';
import type { FleetHub } from './fleet/fleet-hub.js';
import { Monitor, type MonitorOptions } from './monitor.js';
import { readVersion } from './paths.js';
import { startProxyServer } from './proxy.js';
import { MAX_HEADER_BYTES } from './request-bounds.js';
import { RequestStats } from './requests.js';

interface Listening {
  server: Server | Http2SecureServer;
  /** Cuts every open connection (tests use it to force a reconnect). */
  dropConnections(): void;
  /** The reverse proxy, with --proxy. */
  /** e.g. http://127.0.0.1:3000/ */
  url: string;
  port: number;
  /** Stops accepting, and ends every connection. */
  close(): Promise<void>;
}

export interface RunningServer extends Listening {
  monitor: Monitor;
  /** The reverse proxy, with --proxy. */
  proxy: { server: Server; url: string } | null;
}

export interface RunningFleetHub extends Listening {
  fleet: FleetHub;
}

/** A listen failure with a message fit for one line on the console. */
export class ListenError extends Error {}

export async function startServer(options: MonitorOptions & AppOptions & { config: Config }): Promise<RunningServer> {
  const { config } = options;
  // Standalone, the dashboard measures its own routes; with --proxy, the traffic it forwards.
  const requestStats = options.requestStats ?? new RequestStats({ source: config.proxy ? 'proxy' : 'self' });
  const monitor = await Monitor.create({ ...options, requestStats });
  const app = createApp(monitor, {
    ...options,
    measure: config.proxy ? undefined : requestStats,
    token: config.token,
    corsOrigins: config.corsOrigins,
  });
  const listening = await listen(config, getRequestListener(app.fetch));
  const { host } = config;
  let proxy: RunningServer['proxy'] = null;
  if (config.proxy) {
    const proxyServer = await startProxyServer(config.proxy, requestStats, host, config.proxyPort).catch((error: NodeJS.ErrnoException) => {
      void listening.close();
      throw new ListenError(
        error.code === 'EADDRINUSE'
          ? `proxy port ${config.proxyPort} on ${host} is already in use (choose another with --proxy-port)`
          : `cannot start the proxy on ${host}:${config.proxyPort}: ${error.message}`,
      );
    });
    proxy = { server: proxyServer, url: urlOf(host, (proxyServer.address() as AddressInfo).port) };
  }
  monitor.start();

  let closing: Promise<void> | undefined;
  return {
    ...listening,
    monitor,
    proxy,
    close() {
      closing ??= new Promise<void>((resolve) => {
        monitor.close();
        const closed = listening.close();
        if (!proxy) return void closed.then(resolve);
        proxy.server.closeAllConnections();
        proxy.server.close(() => void closed.then(resolve));
      });
      return closing;
    },
  };
}

/** Hub mode (`--redis`): the dashboard of every host in Redis; this process samples nothing. */
export async function startFleetHub(config: Config, options: AppOptions = {}): Promise<RunningFleetHub> {
  // Loaded on demand, as the agent is: only this mode needs Redis's client.
  const { FleetHub } = await import('./fleet/fleet-hub.js');
  const fleet = new FleetHub(config, readVersion());
  await fleet.start();
  const requestStats = new RequestStats({ source: 'self' });
  const app = createApp(fleet, { ...options, measure: requestStats, token: config.token, corsOrigins: config.corsOrigins });
  const listening = await listen(config, getRequestListener(app.fetch)).catch((error: unknown) => {
    fleet.close();
    throw error;
  });
  return {
    ...listening,
    fleet,
    close() {
      fleet.close();
      return listening.close();
    },
  };
}

async function listen(config: Config, listener: ReturnType<typeof getRequestListener>): Promise<Listening> {
  const server =
    config.tlsCert && config.tlsKey
      ? createTlsServer(config.tlsCert, config.tlsKey, listener)
      : createServer({ maxHeaderSize: MAX_HEADER_BYTES }, listener);
  if (server instanceof HttpServer) {
    // Streams are long-lived by design; the default request timeout would cut them every 5 minutes.
    server.requestTimeout = 0;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
  }
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

function urlOf(host: string, port: number, scheme = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/** HTTPS with HTTP/2, and HTTP/1.1 for clients that ask for it by ALPN. Bad PEM ends start-up with one line. */
function createTlsServer(certPath: string, keyPath: string, listener: ReturnType<typeof getRequestListener>): Http2SecureServer {
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
