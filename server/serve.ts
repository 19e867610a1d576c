import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Config } from './config.js';
import type { FleetHub } from './fleet/fleet-hub.js';
import { type AppOptions, createApp } from './http/app.js';
import { TOKEN_COOKIE } from './http/auth.js';
import { ListenError, type Listening, listen, urlOf } from './http/listen.js';
import { type ConnectionTimeouts, proxyConnectionTimeouts } from './lib/connection-timeouts.js';
import { readVersion } from './lib/paths.js';
import { Monitor, type MonitorOptions } from './monitor.js';
import { AccessLogSource } from './requests/access-log.js';
import { type ProxyServer, startRawProxyServer } from './requests/raw-proxy.js';
import { RequestStats } from './requests/stats.js';

export { ListenError } from './http/listen.js';

export interface RunningServer extends Listening {
  monitor: Monitor;
  /** The reverse proxy, with --proxy. */
  proxy: { server: ProxyServer; url: string } | null;
}

export interface RunningFleetHub extends Listening {
  fleet: FleetHub;
}

export interface ServeOptions {
  /** Shorter connection timeouts than the production ones (tests watch connections being closed). */
  connectionTimeouts?: Partial<ConnectionTimeouts>;
}

export async function startServer(options: MonitorOptions & AppOptions & ServeOptions & { config: Config }): Promise<RunningServer> {
  const { config } = options;
  let monitor: Monitor | undefined;
  const historyWriting = () => monitor?.historyStore.writing ?? false;
  const requestSource = options.requestStats ? { requestStats: options.requestStats } : requestSourceOf(config, historyWriting);
  const { requestStats } = requestSource;
  monitor = await Monitor.create({ ...options, ...requestSource });
  const app = createApp(monitor, {
    ...options,
    measure: requestStats.source === 'self' ? requestStats : undefined,
    requestMetrics: requestStats,
    token: config.token,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
  });
  const listening = await listen(config, getRequestListener(app.fetch), options.connectionTimeouts);
  const { host } = config;
  let proxy: RunningServer['proxy'] = null;
  if (config.proxy) {
    const proxyOptions = { target: config.proxy, timeoutMs: config.proxyTimeoutMs, privateCookie: TOKEN_COOKIE };
    const timeouts = proxyConnectionTimeouts(config.proxyTimeoutMs, options.connectionTimeouts);
    const proxyServer = await startRawProxyServer(proxyOptions, requestStats, host, config.proxyPort, timeouts).catch(
      (error: NodeJS.ErrnoException) => {
        void listening.close();
        throw new ListenError(
          error.code === 'EADDRINUSE'
            ? `proxy port ${config.proxyPort} on ${host} is already in use (choose another with --proxy-port)`
            : `cannot start the proxy on ${host}:${config.proxyPort}: ${error.message}`,
        );
      },
    );
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

/**
 * What feeds the `requests` topic: standalone, the dashboard's own routes; with --proxy, the traffic it
 * forwards; with --access-log, the web servers' logs, read at each tick.
 */
export function requestSourceOf(
  config: Config,
  dataDirWritable?: () => boolean,
): Pick<MonitorOptions, 'requestStats' | 'requestsCollector'> & { requestStats: RequestStats } {
  if (config.accessLogs.length > 0) {
    const requestStats = new RequestStats({ source: 'access-log' });
    const logs = new AccessLogSource({ files: config.accessLogs, dataDir: config.dataDir, dataDirWritable }, requestStats);
    return { requestStats, requestsCollector: logs.collector(config.intervalMs) };
  }
  return { requestStats: new RequestStats({ source: config.proxy ? 'proxy' : 'self' }) };
}

/** Hub mode (`--redis`): the dashboard of every host in Redis; this process samples nothing. */
export async function startFleetHub(
  config: Config,
  options: AppOptions & ServeOptions & { log?: (line: string) => void; discoverMs?: number } = {},
): Promise<RunningFleetHub> {
  // Loaded on demand, as the agent is: only this mode needs Redis's client.
  const { FleetHub } = await import('./fleet/fleet-hub.js');
  const fleet = new FleetHub(config, readVersion(), options.log, options.discoverMs);
  await fleet.start();
  const requestStats = new RequestStats({ source: 'self' });
  const app = createApp(fleet, {
    ...options,
    measure: requestStats,
    token: config.token,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
  });
  const listening = await listen(config, getRequestListener(app.fetch), options.connectionTimeouts).catch((error: unknown) => {
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
