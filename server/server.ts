import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type AppOptions, createApp } from './app.js';
import type { Config } from './config.js';
import { Monitor, type MonitorOptions } from './monitor.js';

export interface RunningServer {
  monitor: Monitor;
  server: Server;
  /** e.g. http://127.0.0.1:3000/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A listen failure with a message fit for one line on the console. */
export class ListenError extends Error {}

export async function startServer(options: MonitorOptions & AppOptions & { config: Config }): Promise<RunningServer> {
  const monitor = await Monitor.create(options);
  const app = createApp(monitor, options);
  const server = createServer(getRequestListener(app.fetch));
  // Streams are long-lived by design; the default request timeout would cut them every 5 minutes.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  const { host, port } = options.config;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new ListenError(`port ${port} on ${host} is already in use (choose another with --port)`));
      else if (error.code === 'EADDRNOTAVAIL') reject(new ListenError(`cannot bind to ${host}: no such address on this machine`));
      else if (error.code === 'EACCES') reject(new ListenError(`no permission to listen on ${host}:${port}`));
      else reject(new ListenError(`cannot listen on ${host}:${port}: ${error.message}`));
    });
    server.listen(port, host, () => resolve());
  });
  monitor.start();

  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    monitor,
    server,
    port: actualPort,
    url: `http://${urlHost}:${actualPort}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        monitor.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
