import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { isHttps } from './client.js';

export const TOKEN_COOKIE = 'pulseboard_token';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests of equal length in constant time, so response timing says nothing about the token. */
function matches(presented: string | undefined, expected: Buffer): boolean {
  return presented !== undefined && presented !== '' && timingSafeEqual(digest(presented), expected);
}

/**
 * The path and query of `url` as a Location that stays on this origin. A path that starts with two slashes
 * (from `/.//evil.example/`), or a slash and a backslash, would be read as another host: they become one.
 */
function sameOriginPath(url: URL): string {
  return `/${url.pathname.replace(/^[/\\]+/, '')}${url.search}`;
}

/**
 * With a token, every route but /healthz needs it: `Authorization: Bearer <token>`, or the HttpOnly
 * SameSite=Strict cookie that opening the page once with `?token=` sets (EventSource cannot send headers).
 * A wrong or missing token gets a 401 with no metric in the body. The cookie is `Secure` when the browser
 * came over HTTPS, to this server or (with `trustProxy`) to the proxy in front of it.
 */
export function tokenAuth(token: string, trustProxy = false): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    if (c.req.path.endsWith('/healthz')) return next();
    const fromQuery = c.req.query('token');
    if (fromQuery !== undefined && matches(fromQuery, expected)) {
      setCookie(c, TOKEN_COOKIE, token, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: isHttps(c.req.url, c.req.header('x-forwarded-proto'), trustProxy),
      });
      // Take the token out of the address bar and the history.
      const clean = new URL(c.req.url);
      clean.searchParams.delete('token');
      return c.redirect(sameOriginPath(clean), 303);
    }
    const header = c.req.header('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (matches(bearer, expected) || matches(getCookie(c, TOKEN_COOKIE), expected)) return next();
    return c.json({ error: 'unauthorized: this pulseboard needs its token (Authorization: Bearer, or open the page with ?token=)' }, 401, {
      'WWW-Authenticate': 'Bearer realm="pulseboard"',
      'Cache-Control': 'no-store',
    });
  };
}
