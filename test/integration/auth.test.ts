import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { launchBrowser } from '../helpers/chromium.js';
import { runCli, startTestServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';

const TOKEN = 'correct-horse-battery-staple';

describe('--token', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ token: TOKEN });
  });
  afterAll(() => server?.close());

  const ROUTES = ['', 'index.html', 'api/events', 'api/snapshot', 'api/history', 'api/nope'];

  it.each(ROUTES)('refuses /%s without a token or with a wrong one: 401 and no metric in the body', async (route) => {
    for (const headers of <Record<string, string>[]>[
      {},
      { Authorization: 'Bearer wrong-token-wrong-token' },
      { Cookie: 'pulseboard_token=wrong-token-wrong' },
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { Authorization: `Bearer ${TOKEN.slice(0, 1)}` },
      { Authorization: 'Bearer ' },
    ]) {
      const response = await fetch(`${server.url}${route}`, { headers, redirect: 'manual' });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = await response.text();
      expect(body).not.toMatch(/"t":|cpu|memory|bootId|hostname/);
    }
  });

  it('lets /healthz through without a token (load balancers)', async () => {
    expect((await fetch(`${server.url}healthz`)).status).toBe(200);
  });

  it('accepts the Bearer header on every route, the stream included', async () => {
    const snapshot = await fetch(`${server.url}api/snapshot`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(snapshot.status).toBe(200);
    const stream = await openSse(`${server.url}api/events?topics=cpu`, { Authorization: `Bearer ${TOKEN}` });
    await stream.until((frames) => frames.some((f) => f.event === 'hello'));
    stream.close();
  });

  it('turns ?token= into an HttpOnly SameSite=Strict cookie and a redirect without the token', async () => {
    const response = await fetch(`${server.url}?token=${TOKEN}&kiosk`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/?kiosk=');
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^pulseboard_token=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const wrong = await fetch(`${server.url}?token=not-the-token-at-all`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
  });

  it.each(['/.//evil.example/', '//evil.example/x', '/%2e//evil.example/', '/.\\evil.example/', '/\\/evil.example/', '///evil.example'])(
    'sends %s?token=<token> to a path of this origin, never to another host',
    async (path) => {
      const { status, location } = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        const url = new URL(server.url);
        request({ host: url.hostname, port: url.port, path: `${path}?token=${TOKEN}&kiosk` }, (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, location: response.headers.location });
        })
          .on('error', reject)
          .end();
      });
      // A backslash in the path is refused outright (400, no Location); anything else is redirected here.
      if (path.includes('\\')) {
        expect(status).toBe(400);
        expect(location).toBeUndefined();
        return;
      }
      expect(status).toBe(303);
      expect(location).toMatch(/^\/[^/\\]/);
      expect(new URL(location as string, server.url).origin).toBe(new URL(server.url).origin);
      expect(location).not.toContain(TOKEN);
    },
  );

  it('marks the hashed assets private, not public, for caches: they are behind the token', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const page = await (await fetch(server.url, { headers: auth })).text();
    const assets = [...page.matchAll(/assets\/[^"]+/g)].map((match) => match[0]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const response = await fetch(`${server.url}${asset}`, { headers: auth });
      await response.arrayBuffer();
      expect(response.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    }
    const open = await startTestServer();
    try {
      const response = await fetch(`${open.url}${assets[0]}`);
      await response.arrayBuffer();
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    } finally {
      await open.close();
    }
  });

  it('gets the page live in Chromium after opening it once with ?token=', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}?token=${TOKEN}`);
      expect(new URL(page.url()).search).toBe('');
      await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, {
        timeout: 10_000,
      });
    } finally {
      await browser.close();
    }
  });

  it('rejects a weak token at start with one line that does not echo it', async () => {
    const { code, stderr } = await runCli(['--token', 'short']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('pulseboard: --token: a token must be 16 to 256 printable characters without spaces (see --help)');
  });
});
