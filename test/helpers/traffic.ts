import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type Context, Hono, type MiddlewareHandler } from 'hono';

/** The known mix of the request tests: what the fixture app will be asked, and what it must report. */
export const MIX = { fast: 500, slow: 50, missing: 30, thrown: 20 } as const;
export const SLOW_MS = 50;

/**
 * A fixture Hono app: fast 200s, slow 200s (~50 ms), thrown errors (500) and unmatched paths (404).
 * `measure` middlewares (ours, and the test's exact timers) run first, in the given order.
 */
export function fixtureApp(...measure: MiddlewareHandler[]): Hono {
  const app = new Hono();
  app.onError((_error, c) => c.text('fixture failure', 500));
  for (const middleware of measure) app.use('*', middleware);
  app.get('/fast', (c) => c.text('ok'));
  app.get('/slow/:id', async (c) => {
    await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
    return c.json({ id: c.req.param('id') });
  });
  app.get('/boom', () => {
    throw new Error('fixture failure');
  });
  return app;
}

/** Serves a Hono app (or a fetch function in front of one) on a real port 0. */
export async function listen(app: Hono | Hono['fetch']): Promise<{ server: Server; url: string }> {
  const server = createServer(getRequestListener(typeof app === 'function' ? app : app.fetch));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Sends the mix with `concurrency` requests in flight; returns the statuses seen by the client. */
export async function driveMix(baseUrl: string, concurrency = 8): Promise<Record<number, number>> {
  const paths: string[] = [
    ...Array.from({ length: MIX.fast }, () => '/fast'),
    ...Array.from({ length: MIX.slow }, (_, i) => `/slow/${i + 1}`),
    ...Array.from({ length: MIX.missing }, (_, i) => `/missing-${i}`),
    ...Array.from({ length: MIX.thrown }, () => '/boom'),
  ];
  // Interleave deterministically so slow requests do not all land in one tick.
  paths.sort((a, b) => hash(a + paths.indexOf(a)) - hash(b + paths.indexOf(b)));
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++] as string;
      const response = await fetch(baseUrl + path);
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

type CloseListener = (event: 'close', listener: () => void) => void;
interface Outgoing {
  on: CloseListener;
  prependListener: CloseListener;
}

/**
 * Exact latencies measured by the test itself, bracketing the middleware under test: `outer` runs before
 * it and hears the response's `close` after it; `inner` runs after it and hears `close` before it. So for
 * every request inner <= measured <= outer, whatever the scheduler or the GC does in between, and so for
 * every percentile too.
 */
export function bracketTimers(): { outer: MiddlewareHandler; inner: MiddlewareHandler; outerValues: number[]; innerValues: number[] } {
  const outerValues: number[] = [];
  const innerValues: number[] = [];
  const outgoingOf = (c: Context) => (c.env as { outgoing: Outgoing }).outgoing;
  const outer: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    await next();
    // Registered after the middleware under test registered its own: called after it.
    outgoingOf(c).on('close', () => outerValues.push(performance.now() - started));
  };
  const inner: MiddlewareHandler = (c, next) => {
    const started = performance.now();
    outgoingOf(c).prependListener('close', () => innerValues.push(performance.now() - started));
    return next();
  };
  return { outer, inner, outerValues, innerValues };
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}
