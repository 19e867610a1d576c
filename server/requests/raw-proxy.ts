import { createServer, type Server } from 'node:net';
import type { ConnectionTimeouts } from '../lib/connection-timeouts.js';
import { formatDuration } from '../lib/duration.js';
import { ProxiedConnection, type Shared } from './proxied-connection.js';
import { RouteCache } from './route-groups.js';
import type { RequestStats } from './stats.js';
import { describeUpstreamFailure, FailureLog } from './upstream-failure.js';
import { UpstreamPool } from './upstream-pool.js';

/** What the proxy needs of the configuration. */
export interface ProxyOptions {
  /** The origin every request is forwarded to (`--proxy`). */
  target: URL;
  /** Longest the upstream may keep an exchange waiting (`--proxy-timeout`). */
  timeoutMs: number;
  /** The dashboard's own cookie: it never reaches the upstream. */
  privateCookie: string;
}

/** The proxy's listener, closed like Node's HTTP servers. */
export type ProxyServer = Server & {
  closeAllConnections(): void;
  /** Whether the timeouts' sweep timer is running (only while connections are open). */
  readonly sweeping: boolean;
};

/**
 * The reverse proxy on raw sockets: HTTP/1.1 heads read and checked by the proxy itself (http-head.ts),
 * bodies forwarded as bytes by their framing with backpressure both ways, keep-alive upstream connections
 * pooled, `Upgrade` (WebSocket) connections spliced once the upstream switches protocols. Each exchange is
 * measured from its head's arrival until its response is handed to the socket whole.
 *
 * An exchange never outlives its upstream: an upstream that fails or closes mid-response takes the client's
 * connection with it, and one that keeps the exchange waiting for `timeoutMs` is cut too: before its
 * response began with a 504, after it like a failure.
 */
export function startRawProxyServer(
  options: ProxyOptions,
  stats: RequestStats,
  host: string,
  port: number,
  timeouts: ConnectionTimeouts,
  log: (line: string) => void = (line) => process.stderr.write(`pulseboard: proxy: ${line}\n`),
): Promise<ProxyServer> {
  const { target, timeoutMs } = options;
  const failures = new FailureLog(log);
  const shared: Shared = {
    options,
    timeouts,
    stats,
    pool: new UpstreamPool(target),
    routes: new RouteCache(),
    upstreamHost: target.host,
    upstreamFailed: (error) => {
      const text = describeUpstreamFailure(target.origin, error);
      failures.report(text, performance.now());
      return text;
    },
    silent: `upstream ${target.origin} did not answer within ${formatDuration(timeoutMs)} (--proxy-timeout)`,
    unforwardable: `upstream ${target.origin} sent a response head that cannot be forwarded`,
  };
  const connections = new Set<ProxiedConnection>();
  const sweepMs = Math.max(10, Math.min(timeouts.checkEveryMs, timeoutMs / 4));
  // The timeouts' sweep runs only while there are connections: an idle proxy wakes the process for nothing.
  let sweeper: NodeJS.Timeout | null = null;
  const sweep = () => {
    const now = performance.now();
    for (const connection of connections) connection.sweep(now);
  };
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const connection = new ProxiedConnection(socket, shared, performance.now());
    connections.add(connection);
    if (sweeper === null) {
      sweeper = setInterval(sweep, sweepMs);
      sweeper.unref();
    }
    socket.on('close', () => {
      connections.delete(connection);
      if (connections.size === 0 && sweeper !== null) {
        clearInterval(sweeper);
        sweeper = null;
      }
    });
  }) as ProxyServer;
  Object.defineProperty(server, 'sweeping', { get: () => sweeper !== null });
  server.closeAllConnections = () => {
    for (const connection of connections) connection.close();
    shared.pool.closeAll();
  };
  server.on('close', () => {
    if (sweeper !== null) clearInterval(sweeper);
    shared.pool.closeAll();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
