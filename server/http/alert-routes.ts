import type { Context, Env, Hono } from 'hono';
import { parseRange } from '../history/range-params.js';
import { parseDuration } from '../lib/duration.js';
import type { Board } from '../stream/board.js';

/** The shortest and longest silence `?for=` takes. */
const MIN_SILENCE_MS = 60_000;
const MAX_SILENCE_MS = 30 * 86_400_000;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** `?for=1h`: a duration from 1 minute to 30 days. */
export function parseSilenceFor(text: string | undefined): { ok: true; value: number } | { ok: false; error: string } {
  const ms = text === undefined ? null : parseDuration(text);
  if (ms === null || ms < MIN_SILENCE_MS || ms > MAX_SILENCE_MS) {
    return { ok: false, error: 'for: expected a duration from 1m to 30d, such as ?for=1h' };
  }
  return { ok: true, value: ms };
}

/**
 * A change asked for by another site's page (a form posted cross-site rides on the cookie of a board
 * with no token): refused. Scripts and curl send no Origin or Sec-Fetch-Site and are let through.
 */
function crossSite(header: (name: string) => string | undefined): boolean {
  const site = header('sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = header('origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== header('host');
  } catch {
    return true;
  }
}

/**
 * The routes that change alerting: silences and channel tests. Only a board that runs its own rules (a
 * local monitor) has them; a fleet hub's boards are mirrors, and answer 404.
 */
export function alertRoutes<E extends Env>(app: Hono<E>, boardOf: (c: Context<E>) => Promise<Board | Response>): void {
  const controlOf = async (c: Context<E>) => {
    if (crossSite((name) => c.req.header(name))) return c.json({ error: 'refused: a change to alerting from another site' }, 403);
    const board = await boardOf(c);
    if (board instanceof Response) return board;
    if (!board.alerting) return c.json({ error: "alerting is changed on the host's own server, not through a fleet hub" }, 404);
    return board.alerting;
  };

  const silence = async (c: Context<E>, lift: boolean) => {
    const control = await controlOf(c);
    if (control instanceof Response) return control;
    const rule = c.req.param('rule') ?? '';
    if (!NAME.test(rule) || !control.hasRule(rule))
      return c.json({ error: `no alert rule named ${JSON.stringify(rule.slice(0, 64))}` }, 404);
    if (lift) return c.json(control.silence(rule, null), 200, { 'Cache-Control': 'no-store' });
    const duration = parseSilenceFor(c.req.query('for'));
    if (!duration.ok) return c.json({ error: duration.error }, 400);
    return c.json(control.silence(rule, Date.now() + duration.value), 200, { 'Cache-Control': 'no-store' });
  };
  app.post('/api/alerts/:rule/silence', (c) => silence(c, false));
  app.delete('/api/alerts/:rule/silence', (c) => silence(c, true));

  app.get('/api/alerts', async (c) => {
    const board = await boardOf(c);
    if (board instanceof Response) return board;
    if (!board.alerting) return c.json({ error: "alert history is kept by the host's own server, not by a fleet hub" }, 404);
    const range = parseRange(c.req.query(), Date.now());
    if (!range.ok) return c.json({ error: range.error }, 400);
    return c.json(board.alerting.history(range.from, range.to), 200, { 'Cache-Control': 'no-store' });
  });

  app.post('/api/alerts/channels/:name/test', async (c) => {
    const control = await controlOf(c);
    if (control instanceof Response) return control;
    const name = c.req.param('name') ?? '';
    if (!NAME.test(name) || !control.testChannel(name)) {
      return c.json({ error: `no alert channel named ${JSON.stringify(name.slice(0, 64))}` }, 404);
    }
    return c.json({ queued: name }, 202, { 'Cache-Control': 'no-store' });
  });
}
