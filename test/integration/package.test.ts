import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestsSample } from '../../server/protocol.js';
import { launchBrowser } from '../helpers/chromium.js';
import { ROOT } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'embedded-app');

/**
 * A sibling project that depends on the built package: node_modules/pulseboard links to this repository,
 * so `import 'pulseboard'` goes through package.json `exports` to dist/, never to the sources.
 */
function makeSiblingProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-embed-'));
  copyFileSync(join(FIXTURE, 'app.ts'), join(dir, 'app.ts'));
  copyFileSync(join(FIXTURE, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'embedded-app', private: true, type: 'module' }));
  mkdirSync(join(dir, 'node_modules', '@hono'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'pulseboard'), 'dir');
  for (const name of ['hono', '@hono/node-server', '@types/node']) {
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
  return dir;
}

describe('pulseboard as a package, embedded in a sibling Hono app', () => {
  let dir: string;
  let url: string;
  let child: ReturnType<typeof spawn>;

  beforeAll(async () => {
    dir = makeSiblingProject();
    // Type-checks the app against the emitted declarations, and compiles it.
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { stdio: 'pipe' });
    child = spawn(process.execPath, [join(dir, 'out', 'app.js')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (\S+)/.exec(output);
        if (match) resolve(match[1] as string);
      });
      child.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${output}`)));
    });
  }, 60_000);

  afterAll(() => {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the dashboard page and its assets under the base path', async () => {
    const page = await fetch(`${url}_pulse/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<html');
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect((await fetch(`${url}_pulse/${asset}`)).status).toBe(200);
  });

  it('runs one sampler however many times it is mounted', async () => {
    const a = await (await fetch(`${url}_pulse/healthz`)).json();
    const b = await (await fetch(`${url}_pulse2/healthz`)).json();
    expect(a.bootId).toBe(b.bootId);
  });

  it('measures the app traffic by route pattern, reported as embedded', async () => {
    const stream = await openSse(`${url}_pulse/api/events?topics=requests`);
    await stream.until((frames) => frames.some((f) => f.event === 'backfill'));
    for (let i = 0; i < 20; i++) await (await fetch(`${url}users/${i}`)).arrayBuffer();
    for (let i = 0; i < 3; i++) await (await fetch(`${url}boom`)).arrayBuffer();
    const samples = () =>
      stream
        .events()
        .filter((e) => e.event === 'requests')
        .map((e) => e.data as RequestsSample);
    const countOf = (route: string) =>
      samples()
        .at(-1)
        ?.routes.find((r) => r.route === route)?.count ?? 0;
    await stream.until(() => countOf('GET /users/:id') >= 20 && countOf('GET /boom') >= 3, 10_000);
    stream.close();
    const last = samples().at(-1) as RequestsSample;
    expect(last.source).toBe('embedded');
    expect(last.routes.find((r) => r.route === 'GET /boom')).toMatchObject({ count: 3, errors: 3 });
    expect(last.routes.some((r) => /\/users\/\d/.test(r.route))).toBe(false);
  });

  it('loads under the base path in Chromium and shows the app traffic', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${url}_pulse/`);
      await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, {
        timeout: 10_000,
      });
      const traffic = setInterval(() => void fetch(`${url}users/7`).then((r) => r.arrayBuffer()), 50);
      try {
        await page.waitForFunction(
          () => (document.querySelector('[data-topic="requests"] table')?.textContent ?? '').includes('GET /users/:id'),
          undefined,
          { timeout: 10_000 },
        );
      } finally {
        clearInterval(traffic);
      }
      expect(await page.textContent('[data-topic="requests"] [data-role="source"]')).toContain('embedded');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
