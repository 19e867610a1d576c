import type { MiddlewareHandler } from 'hono';

const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Methods': 'GET, HEAD',
  'Access-Control-Allow-Headers': 'Authorization, Last-Event-ID, Cache-Control',
  'Access-Control-Max-Age': '600',
};

/** The CORS headers for a response to `origin`: none unless it is one of the allowed origins. */
export function corsHeaders(allowed: readonly string[], origin: string | undefined): Record<string, string> {
  if (origin === undefined || !allowed.includes(origin)) return {};
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' };
}

/**
 * CORS for `--cors-origin`: exact origins only, no credentials (the token cookie is SameSite=Strict; other
 * sites' pages send the token as a Bearer header). Preflights from other origins get a 403.
 * The event stream writes its own headers, so its route adds `corsHeaders` itself.
 */
export function cors(allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    const headers = corsHeaders(allowed, origin);
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      if (!headers['Access-Control-Allow-Origin']) return c.json({ error: `origin ${origin ?? '(none)'} is not allowed` }, 403);
      return c.body(null, 204, { ...headers, ...PREFLIGHT_HEADERS });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) if (name !== 'Vary') c.res.headers.set(name, value);
    // Whatever the origin, the answer depends on it; and compression may have said Accept-Encoding already.
    addVary(c.res.headers, 'Origin');
  };
}

/** Adds `name` to the Vary header, keeping what is there (set would drop `Accept-Encoding`). */
function addVary(headers: Headers, name: string): void {
  const current = headers.get('Vary');
  if (current === null || current.trim() === '') {
    headers.set('Vary', name);
    return;
  }
  const listed = current.split(',').map((item) => item.trim().toLowerCase());
  if (!listed.includes('*') && !listed.includes(name.toLowerCase())) headers.set('Vary', `${current}, ${name}`);
}
