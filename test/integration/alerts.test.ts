import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../server/alerts/rules.js';
import { AlertWebhook } from '../../server/alerts/webhook.js';
import type { AlertPayload, BackfillPayload, HelloPayload } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { freePort } from '../helpers/ports.js';
import { runCli, startTestServer } from '../helpers/server.js';
import { openSse, type SseConnection } from '../helpers/sse-reader.js';
import { steerableCpu } from '../helpers/steerable.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An HTTP receiver that answers the first `failFirst` POSTs with 500. */
async function webhookReceiver(failFirst: number): Promise<{ url: URL; received: { body: AlertPayload; status: number }[] }> {
  const received: { body: AlertPayload; status: number }[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const status = received.length < failFirst ? 500 : 200;
      received.push({ body: JSON.parse(body) as AlertPayload, status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`), received };
}

async function start(webhook: URL | null): Promise<{ server: RunningServer; cpu: ReturnType<typeof steerableCpu> }> {
  const cpu = steerableCpu();
  const server = await startTestServer(
    {
      alerts: { rules: [{ name: 'cpu-test', metric: 'cpu', above: 50, forMs: 300, severity: 'critical' }], thresholds: DEFAULT_THRESHOLDS },
      alertWebhook: webhook,
    },
    { collectors: [cpu.collector] },
  );
  cleanups.push(() => server.close());
  return { server, cpu };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const alertsIn = (stream: SseConnection) =>
  stream
    .events()
    .filter((e) => e.event === 'alert')
    .map((e) => e.data as AlertPayload);

describe('alerts', () => {
  it('fire and resolve as `alert` events with ids, are in the backfill while active, and reach the webhook in order despite a failure', async () => {
    const hook = await webhookReceiver(1);
    const { server, cpu } = await start(hook.url);
    const stream = await openSse(`${server.url}api/events?topics=cpu`);
    cleanups.push(() => stream.close());
    await stream.until((f) => f.some((x) => x.event === 'hello'));
    const hello = stream.events()[0]?.data as HelloPayload;
    expect(hello.thresholds.cpu).toEqual({ warning: 75, critical: 90 });

    cpu.set(95);
    await stream.until(() => alertsIn(stream).length >= 1);
    const firing = alertsIn(stream)[0] as AlertPayload;
    expect(firing).toMatchObject({ rule: 'cpu-test', state: 'firing', severity: 'critical', value: 95, threshold: 50 });
    expect(stream.events().find((e) => e.event === 'alert')?.id).toMatch(/^[a-z0-9]+-\d+$/);

    // A page opened now learns of the alert from its backfill, and so does /api/history.
    const late = await openSse(`${server.url}api/events?topics=cpu`);
    cleanups.push(() => late.close());
    await late.until((f) => f.some((x) => x.event === 'backfill'));
    const backfill = late.events().find((e) => e.event === 'backfill')?.data as BackfillPayload;
    expect(backfill.alerts.map((a) => a.rule)).toEqual(['cpu-test']);
    const history = await fetch(`${server.url}api/history?topics=cpu&since=1m`).then((r) => r.json());
    expect(history.alerts.map((a: AlertPayload) => a.state)).toEqual(['firing']);

    cpu.set(10);
    await stream.until(() => alertsIn(stream).length >= 2);
    expect(alertsIn(stream)[1]).toMatchObject({ rule: 'cpu-test', state: 'resolved', value: 10 });

    // The receiver failed the first POST: it was retried, and the resolved change came after it (the
    // delays between tries are pinned with a fake clock in test/unit/webhook.test.ts).
    await waitFor(() => hook.received.filter((r) => r.status === 200).length >= 2);
    expect(hook.received.map((r) => `${r.status} ${r.body.state}`)).toEqual(['500 firing', '200 firing', '200 resolved']);
  });

  it('keep sampling on time while the webhook receiver hangs', async () => {
    let posts = 0;
    let waitingPosts = 0;
    // Accepts, never answers: the webhook gives each POST up after its 5 s timeout.
    const hanging = createServer((request) => {
      posts++;
      waitingPosts++;
      request.socket.once('close', () => waitingPosts--);
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      hanging.closeAllConnections();
      return new Promise((resolve) => hanging.close(resolve));
    });
    const { server, cpu } = await start(new URL(`http://127.0.0.1:${(hanging.address() as { port: number }).port}/`));
    const stream = await openSse(`${server.url}api/events?topics=cpu`);
    cleanups.push(() => stream.close());
    cpu.set(99);
    await stream.until(() => alertsIn(stream).length >= 1);
    await waitFor(() => posts === 1);
    // Ten samples (a second's worth) arrive while that POST still waits for its answer.
    const cpuEvents = () => stream.events().filter((e) => e.event === 'cpu').length;
    const before = cpuEvents();
    await stream.until(() => cpuEvents() >= before + 10 || waitingPosts === 0);
    expect(waitingPosts).toBe(1);
    expect(cpuEvents()).toBeGreaterThanOrEqual(before + 10);
  });

  it('a bad --alert-rules file ends start-up with one line naming the file and the place, exit 2', async () => {
    const file = join(tmpdir(), `pulseboard-rules-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ rules: [{ name: 'x', metric: 'gpu', above: 1 }] }));
    const bad = await runCli(['--alert-rules', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(`--alert-rules ${file}: rules[0].metric: expected one of cpu, memory`);

    writeFileSync(file, '{"rules": [');
    const broken = await runCli(['--alert-rules', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid JSON/);

    const missing = await runCli(['--alert-rules', '/nonexistent/rules.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the file \(ENOENT\)/);
  });
});

describe('the alert webhook', () => {
  const change: AlertPayload = {
    t: 1_764_037_000_000,
    rule: 'cpu-busy',
    metric: 'cpu',
    state: 'firing',
    severity: 'critical',
    value: 93,
    threshold: 90,
    since: 1_764_036_940_000,
    message: 'CPU 93 %, above 90 % for 60 s',
  };

  /** A receiver that answers each path as told and records every request. */
  async function receiver(answer: (path: string, response: import('node:http').ServerResponse) => void) {
    const requests: { path: string; authorization?: string; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        requests.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
        answer(request.url ?? '', response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    return { port: (server.address() as { port: number }).port, requests };
  }

  function webhook(url: string, options: { attempts?: number; timeoutMs?: number } = {}) {
    const lines: string[] = [];
    const hook = new AlertWebhook(new URL(url), { retryDelayMs: 10, log: (line) => lines.push(line), ...options });
    cleanups.push(() => hook.close());
    return { hook, lines };
  }

  const until = async (predicate: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('does not follow a redirect: a 307 is not re-POSTed elsewhere, and the log says why', async () => {
    const target = await receiver((path, response) => {
      if (path === '/hook') response.writeHead(307, { Location: '/elsewhere' }).end();
      else response.writeHead(200).end();
    });
    const { hook, lines } = webhook(`http://127.0.0.1:${target.port}/hook`);
    hook.send(change);
    await until(() => lines.length > 0 && hook.pending === 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(target.requests.map((r) => r.path)).toEqual(['/hook']);
    expect(lines).toEqual([
      `alert webhook: http://127.0.0.1:${target.port} answered 307 (to /elsewhere); redirects are not followed, so the firing change of cpu-busy is dropped: point --alert-webhook at the final URL`,
    ]);
  });

  it('sends the user:pass@ of its URL as Basic authorization, and the URL without them', async () => {
    const target = await receiver((_, response) => response.writeHead(200).end());
    const { hook, lines } = webhook(`http://al%40ice:p%3Ass@127.0.0.1:${target.port}/hook`);
    hook.send(change);
    await until(() => target.requests.length === 1 && hook.pending === 0);
    expect(target.requests[0]?.authorization).toBe(`Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`);
    expect(JSON.parse(target.requests[0]?.body ?? '')).toEqual(change);
    expect(lines).toEqual([]);
  });

  it('logs the real reason of each failed try: connection refused, a 503, no answer in time', async () => {
    const closedPort = await freePort();
    const refused = webhook(`http://127.0.0.1:${closedPort}/hook`, { attempts: 2 });
    refused.hook.send(change);
    await until(() => refused.lines.length === 3);
    expect(refused.lines).toEqual([
      `alert webhook: POST to http://127.0.0.1:${closedPort} failed (try 1 of 2): connect ECONNREFUSED 127.0.0.1:${closedPort}`,
      `alert webhook: POST to http://127.0.0.1:${closedPort} failed (try 2 of 2): connect ECONNREFUSED 127.0.0.1:${closedPort}`,
      'alert webhook: gave up on the firing change of cpu-busy after 2 tries',
    ]);

    const unavailable = await receiver((_, response) => response.writeHead(503).end());
    const busy = webhook(`http://127.0.0.1:${unavailable.port}/hook`, { attempts: 1 });
    busy.hook.send(change);
    await until(() => busy.lines.length === 2);
    expect(busy.lines[0]).toBe(`alert webhook: POST to http://127.0.0.1:${unavailable.port} failed (try 1 of 1): answered 503`);

    const silent = await receiver(() => {}); // reads the request, never answers
    const slow = webhook(`http://127.0.0.1:${silent.port}/hook`, { attempts: 1, timeoutMs: 200 });
    slow.hook.send(change);
    await until(() => slow.lines.length === 2);
    expect(slow.lines[0]).toBe(`alert webhook: POST to http://127.0.0.1:${silent.port} failed (try 1 of 1): no answer within 200 ms`);
  });
});
