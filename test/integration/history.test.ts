import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { BackfillPayload, HistoryResponse } from '../../server/protocol.js';
import { type ServerProcess, spawnServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';

const root = mkdtempSync(join(tmpdir(), 'pulseboard-history-it-'));
const running: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop('SIGKILL')));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function serve(args: string[], options: Parameters<typeof spawnServer>[2] = {}): Promise<ServerProcess> {
  const server = await spawnServer(['--port', '0', '--interval', '100ms', ...args], {}, options);
  running.push(server);
  return server;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

async function waitFor(predicate: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type Health = { history: { writing: boolean; error: string | null; bytes: number } };

describe('durable history across processes', () => {
  it('keeps the samples from before a kill -9: the restarted server has them in /api/history and in the backfill, under a new boot id', async () => {
    const dir = join(root, 'kill');
    const first = await serve(['--data-dir', dir]);
    const firstHealth = await getJson<Health & { bootId: string }>(`${first.url}healthz`);
    // Past one write of the journal (every 5 s).
    await waitFor(async () => (await getJson<Health>(`${first.url}healthz`)).body.history.bytes > 2000);
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const before = await getJson<HistoryResponse>(`${first.url}api/history?topics=cpu&since=1m`);
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const second = await serve(['--data-dir', dir]);
    const history = await getJson<HistoryResponse>(`${second.url}api/history?topics=cpu&from=-5m&points=10000`);
    expect(history.status).toBe(200);
    expect(history.body.bootId).not.toBe(firstHealth.body.bootId);
    expect(history.body.tier).toBe('raw');
    const times = history.body.series.cpu?.t ?? [];
    const earlier = before.body.series.cpu?.t ?? [];
    expect(earlier.length).toBeGreaterThan(10);
    // The journal is written every 5 s: what was sampled before the last write is there, the rest may be lost.
    const written = earlier.filter((t) => t < killedAt - 6000);
    expect(written.length).toBeGreaterThan(5);
    for (const t of written) expect(times).toContain(t);
    expect(times.filter((t) => t < killedAt).at(-1)).toBeGreaterThanOrEqual(killedAt - 6000);

    const stream = await openSse(`${second.url}api/events?topics=cpu`);
    try {
      const frames = await stream.until((all) => all.some((frame) => frame.event === 'backfill'));
      const backfill = JSON.parse(frames.find((frame) => frame.event === 'backfill')?.data ?? '{}') as BackfillPayload;
      expect(backfill.series.cpu?.t).toEqual(expect.arrayContaining(written.slice(-10)));
    } finally {
      stream.close();
    }
  }, 60_000);

  it('answers a bad range with a 400 that says why', async () => {
    const server = await serve(['--data-dir', 'none']);
    const cases: [string, RegExp][] = [
      ['from=-1h&to=-2h', /must be before to/],
      ['from=yesterday', /from must be ms since epoch/],
      ['from=-1h&points=0', /points must be/],
      ['to=now', /from is required/],
      ['from=-1h&since=5m', /since cannot be combined/],
    ];
    for (const [query, reason] of cases) {
      const { status, body } = await getJson<{ error: string }>(`${server.url}api/history?topics=cpu&${query}`);
      expect(status, query).toBe(400);
      expect(body.error, query).toMatch(reason);
    }
  });
});

describe('durable history in bad states: one line, live data from memory, /healthz and a health entry say so', () => {
  const expectLiveAndNotWriting = async (server: ServerProcess, reason: RegExp) => {
    const stream = await openSse(`${server.url}api/events?topics=cpu`);
    try {
      await stream.until((frames) => frames.filter((frame) => frame.event === 'cpu').length >= 3);
      const hello = JSON.parse(stream.frames.find((frame) => frame.event === 'hello')?.data ?? '{}');
      expect(hello.history).toMatchObject({ writing: false, error: expect.stringMatching(reason) });
    } finally {
      stream.close();
    }
    const { body } = await getJson<Health>(`${server.url}healthz`);
    expect(body.history.writing).toBe(false);
    expect(body.history.error).toMatch(reason);
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.includes('history'));
    expect(lines).toHaveLength(1);
    expect(server.output()).not.toMatch(/\n\s+at /);
  };

  it('a directory it cannot write (the server runs as nobody, the directory is root-only)', async () => {
    const parent = join(root, 'root-only');
    mkdirSync(parent, { recursive: true });
    chmodSync(parent, 0o755);
    chmodSync(root, 0o755);
    const server = await serve(['--data-dir', join(parent, 'data')], { uid: 65534, gid: 65534 });
    await expectLiveAndNotWriting(server, /not writable \(EACCES\)/);
  });

  it('a disk that refuses writes (a file-size limit stands in for a full disk), and nothing written before is damaged', async () => {
    const dir = join(root, 'full');
    const server = await serve(['--data-dir', dir], { prefix: ['prlimit', '--fsize=65536'] });
    await waitFor(async () => (await getJson<Health>(`${server.url}healthz`)).body.history.writing === false);
    const stream = await openSse(`${server.url}api/events?topics=cpu`);
    try {
      await stream.until((frames) => frames.filter((frame) => frame.event === 'cpu').length >= 3);
    } finally {
      stream.close();
    }
    const { body } = await getJson<Health>(`${server.url}healthz`);
    expect(body.history.error).toMatch(/no space left \(EFBIG\)/);
    expect(
      server
        .output()
        .split('\n')
        .filter((line) => line.includes('history')),
    ).toHaveLength(1);
    // What reached the disk is whole lines: a new server reads it back without complaint.
    await server.stop('SIGKILL');
    running.splice(running.indexOf(server), 1);
    const after = await serve(['--data-dir', dir]);
    const health = await getJson<Health>(`${after.url}healthz`);
    expect(health.body.history).toMatchObject({ writing: true, error: null });
    const history = await getJson<HistoryResponse>(`${after.url}api/history?topics=cpu&from=-5m`);
    expect(history.body.series.cpu?.t.length).toBeGreaterThan(0);
  }, 60_000);

  it('a second pulseboard on the same directory', async () => {
    const dir = join(root, 'shared');
    const first = await serve(['--data-dir', dir]);
    const second = await serve(['--data-dir', dir]);
    await expectLiveAndNotWriting(second, /another pulseboard \(pid \d+\) writes to it/);
    expect((await getJson<Health>(`${first.url}healthz`)).body.history.writing).toBe(true);
  });

  it('a directory that holds something else', async () => {
    const dir = join(root, 'foreign');
    mkdirSync(dir, { recursive: true });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'thesis.tex'), 'precious');
    const server = await serve(['--data-dir', dir]);
    await expectLiveAndNotWriting(server, /not a pulseboard data directory/);
  });
});
