/**
 * pulseboard as a library, for any Hono app on Node:
 *
 *   import { pulseboard } from 'pulseboard';
 *   const monitor = pulseboard();
 *   app.route('/_pulse', monitor.app);
 *   serve({ fetch: monitor.measure(app) });   // or app.use(monitor.middleware)
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { type Config, defaultConfig } from './config.js';
import { createApp } from './http/app.js';
import { Monitor } from './monitor.js';
import { measuredFetch } from './requests/measured-fetch.js';
import { requestMiddleware } from './requests/middleware.js';
import { RequestStats } from './requests/stats.js';

export interface PulseboardOptions {
  /** Any of the CLI's settings (interval, history, heartbeat, ...); host and port do not apply. */
  config?: Partial<Config>;
}

export interface Pulseboard {
  /** Measures every request of the app it is used on (`app.use(monitor.middleware)`). */
  middleware: MiddlewareHandler;
  /**
   * The app's `fetch`, measuring every request from outside the app (`serve({ fetch: monitor.measure(app) })`):
   * the same figures as the middleware, and the app keeps Hono's one-handler fast path.
   */
  measure(app: Hono): Hono['fetch'];
  /** The dashboard (page, stream, JSON) as a sub-app: mount it under any path with `app.route()`. */
  app: Hono;
  /** Resolves once the host has been inventoried and sampling has started. */
  ready: Promise<Monitor>;
  /** Stops sampling and ends the streams. */
  close(): Promise<void>;
}

let shared: Pulseboard | null = null;

/**
 * The process's one pulseboard: calling it again (or mounting its app twice) never starts a second
 * sampler. Options apply to the first call only.
 */
export function pulseboard(options: PulseboardOptions = {}): Pulseboard {
  if (shared) return shared;
  const config = defaultConfig(options.config);
  const stats = new RequestStats({ source: 'embedded' });
  const ready = Monitor.create({ config, requestStats: stats }).then((monitor) => {
    monitor.start();
    return monitor;
  });
  const instance: Pulseboard = {
    middleware: requestMiddleware(stats),
    measure: (app) => measuredFetch(app, stats),
    app: createApp(ready, { token: config.token, corsOrigins: config.corsOrigins, trustProxy: config.trustProxy }) as unknown as Hono,
    ready,
    async close() {
      (await ready).close();
      if (shared === instance) shared = null;
    },
  };
  shared = instance;
  return instance;
}

export type { Config } from './config.js';
export { createApp } from './http/app.js';
export { Monitor } from './monitor.js';
export type * from './protocol.js';
export { measuredFetch } from './requests/measured-fetch.js';
export { requestMiddleware } from './requests/middleware.js';
export { RequestStats } from './requests/stats.js';
