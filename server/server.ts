import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type AppOptions, createApp } from './app.js';
import type { Config } from './config.js';
import { Monitor, type MonitorOptions } from './monitor.js';
import { startProxyServer } from './proxy.js';
import { RequestStats } from './requests.js';

export interface RunningServer {
  monitor: Monitor;
  server: Server;
  /** The reverse proxy, with --proxy. */
  proxy: { server: Server; url: string } | null;
  /** e.g. http://127.0.0.1:3000/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A listen failure with a message fit for one line on the console. */
export class ListenError extends Error {}

export async function startServer(options: MonitorOptions & AppOptions & { config: Config }): Promise<RunningServer> {
  const { config } = options;
  // Standalone, the dashboard measures its own routes; with --proxy, the traffic it forwards.
  const requestStats = options.requestStats ?? new RequestStats({ source: config.proxy ? 'proxy' : 'self' });
  const monitor = await Monitor.create({ ...options, requestStats });
  const app = createApp(monitor, { ...options, measure: config.proxy ? undefined : requestStats });
  const server = createServer(getRequestListener(app.fetch));
  // Streams are long-lived by design; the default request timeout would cut them every 5 minutes.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

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
  let proxy: RunningServer['proxy'] = null;
  if (config.proxy) {
    const proxyServer = await startProxyServer(config.proxy, requestStats, host, config.proxyPort).catch((error: NodeJS.ErrnoException) => {
      server.close();
      throw new ListenError(
        error.code === 'EADDRINUSE'
          ? `proxy port ${config.proxyPort} on ${host} is already in use (choose another with --proxy-port)`
          : `cannot start the proxy on ${host}:${config.proxyPort}: ${error.message}`,
      );
    });
    proxy = { server: proxyServer, url: urlOf(host, (proxyServer.address() as AddressInfo).port) };
  }
  monitor.start();

  const actualPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    monitor,
    server,
    port: actualPort,
    proxy,
    url: urlOf(host, actualPort),
    close() {
      closing ??= new Promise<void>((resolve) => {
        monitor.close();
        let pending = proxy ? 2 : 1;
        const closed = () => {
          if (--pending === 0) resolve();
        };
        server.close(closed);
        server.closeAllConnections();
        proxy?.server.close(closed);
        proxy?.server.closeAllConnections();
      });
      return closing;
    },
  };
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}
