import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { TOKEN_COOKIE, tokenAuth } from '../../server/http/auth.js';

const TOKEN = 'correct-horse-battery-staple';

/** The real middleware in front of two routes, answered through Hono's own request path. */
function app(): Hono {
  const hono = new Hono();
  hono.use('*', tokenAuth(TOKEN));
  hono.get('/healthz', (c) => c.text('ok'));
  hono.get('/base/healthz', (c) => c.text('ok'));
  hono.get('*', (c) => c.json({ cpu: 42 }));
  return hono;
}

const get = (path: string, headers: Record<string, string> = {}) => app().request(`http://pulse.test${path}`, { headers });

describe('token auth', () => {
  it('accepts the exact token as a Bearer header, with spaces around it', async () => {
    expect((await get('/api/snapshot', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get('/api/snapshot', { Authorization: `Bearer   ${TOKEN}  ` })).status).toBe(200);
  });

  it.each([
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['its first character', `Bearer ${TOKEN.slice(0, 1)}`],
    ['the token and more', `Bearer ${TOKEN}x`],
    ['an empty bearer', 'Bearer '],
    ['the scheme alone', 'Bearer'],
    ['another scheme of the same length', `Beaver ${TOKEN}`],
    ['no scheme', TOKEN],
  ])('refuses %s with a 401 that holds no metric', async (_name, authorization) => {
    const response = await get('/api/snapshot', { Authorization: authorization });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="pulseboard"');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.text();
    expect(body).toMatch(/unauthorized/);
    expect(body).not.toMatch(/cpu|42/);
  });

  it('refuses a request without any token', async () => {
    expect((await get('/api/snapshot')).status).toBe(401);
  });

  it('accepts the cookie holding the token, and no other cookie value', async () => {
    expect((await get('/api/events', { Cookie: `${TOKEN_COOKIE}=${TOKEN}` })).status).toBe(200);
    expect((await get('/api/events', { Cookie: `${TOKEN_COOKIE}=${TOKEN.slice(0, -1)}` })).status).toBe(401);
    expect((await get('/api/events', { Cookie: `${TOKEN_COOKIE}=` })).status).toBe(401);
    expect((await get('/api/events', { Cookie: `other=${TOKEN}` })).status).toBe(401);
  });

  it('lets /healthz through without a token, under any base path, and nothing that only looks like it', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/base/healthz')).status).toBe(200);
    expect((await get('/healthzz')).status).toBe(401);
    expect((await get('/healthz/x')).status).toBe(401);
  });

  it('turns ?token= into an HttpOnly SameSite=Strict cookie for the whole site, and redirects without it', async () => {
    const response = await get(`/board?window=5m&token=${TOKEN}&kiosk`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/board?window=5m&kiosk=');
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${TOKEN_COOKIE}=${TOKEN};`));
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/);
  });

  it('marks the cookie Secure when the page was asked for over https', async () => {
    const response = await app().request(`https://pulse.test/?token=${TOKEN}`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    expect(response.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('refuses a wrong ?token= without setting a cookie, even with a right header beside it', async () => {
    const wrong = await get(`/?token=${TOKEN.slice(0, -1)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    // A right header still lets the request through; the wrong query token is not turned into a cookie.
    const withHeader = await get(`/?token=nope`, { Authorization: `Bearer ${TOKEN}` });
    expect(withHeader.status).toBe(200);
    expect(withHeader.headers.get('set-cookie')).toBeNull();
  });
});

describe('token auth, an empty token', () => {
  // The configuration refuses an empty token; the middleware still never takes '' for a match.
  it('matches nothing, not even an empty bearer, cookie or ?token=', async () => {
    const hono = new Hono();
    hono.use('*', tokenAuth(''));
    hono.get('*', (c) => c.json({ cpu: 42 }));
    const ask = (path: string, headers: Record<string, string>) => hono.request(`http://pulse.test${path}`, { headers });
    expect((await ask('/api/snapshot', { Authorization: 'Bearer ' })).status).toBe(401);
    expect((await ask('/api/snapshot', { Authorization: 'Bearer    ' })).status).toBe(401);
    expect((await ask('/api/snapshot', { Cookie: `${TOKEN_COOKIE}=` })).status).toBe(401);
    expect((await ask('/api/snapshot?token=', {})).status).toBe(401);
  });
});
