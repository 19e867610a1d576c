import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlertWebhook } from '../../server/alerts/webhook.js';
import type { AlertPayload } from '../../server/protocol.js';

const change = (rule: string, state: AlertPayload['state'] = 'firing'): AlertPayload => ({
  t: 1,
  rule,
  metric: 'cpu',
  state,
  severity: 'critical',
  value: 95,
  threshold: 90,
  since: 1,
  message: 'CPU 95 %',
});

interface Received {
  body: AlertPayload;
  headers: IncomingMessage['headers'];
  method: string;
  /** Date.now() when it arrived: the fake clock's time in the tests that install one. */
  at: number;
  respond(status: number): void;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real HTTP receiver; `answer` decides each POST's status, or holds it (null) until the test responds. */
async function receiver(answer: (index: number) => number | null): Promise<{ url: URL; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const respond = (status: number) => response.writeHead(status).end();
      const index = received.length;
      received.push({
        body: JSON.parse(body) as AlertPayload,
        headers: request.headers,
        method: request.method ?? '',
        at: Date.now(),
        respond,
      });
      const status = answer(index);
      if (status !== null) respond(status);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`), received, server };
}

function webhook(url: URL, options: ConstructorParameters<typeof AlertWebhook>[1] = {}) {
  const log: string[] = [];
  const hook = new AlertWebhook(url, { log: (line) => log.push(line), ...options });
  cleanups.push(() => hook.close());
  return { hook, log };
}

/** Real turns of the event loop until `condition` holds; the deadline only catches a hang. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Moves the fake clock 1 ms at a time, letting real I/O run between steps, until `condition` holds.
 * Returns the fake milliseconds that passed.
 */
async function advanceUntil(condition: () => boolean, what: string, limitMs: number): Promise<number> {
  let passed = 0;
  while (!condition()) {
    if (passed > limitMs) throw new Error(`${what}: not within ${limitMs} ms of fake time`);
    vi.advanceTimersByTime(1);
    passed++;
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  }
  return passed;
}

describe('alert webhook', () => {
  it('POSTs each change as JSON, one at a time and in order', async () => {
    const target = await receiver(() => 200);
    const { hook } = webhook(target.url);
    hook.send(change('a'));
    hook.send(change('b'));
    hook.send(change('a', 'resolved'));
    await until(() => target.received.length === 3 && hook.pending === 0, 'three deliveries');
    expect(target.received.map((r) => `${r.body.rule} ${r.body.state}`)).toEqual(['a firing', 'b firing', 'a resolved']);
    expect(target.received[0]?.method).toBe('POST');
    expect(target.received[0]?.headers['content-type']).toBe('application/json');
    expect(target.received[0]?.headers['user-agent']).toBe('pulseboard');
    expect(target.received[0]?.body).toEqual(change('a'));
  });

  it('does not retry a 4xx other than 429: it logs the refusal and goes on with the next change', async () => {
    const target = await receiver((index) => (index === 0 ? 404 : 200));
    const { hook, log } = webhook(target.url, { retryDelayMs: 1 });
    hook.send(change('refused'));
    hook.send(change('next'));
    await until(() => target.received.length === 2 && hook.pending === 0, 'the next change');
    expect(target.received.map((r) => r.body.rule)).toEqual(['refused', 'next']);
    expect(log).toEqual([`alert webhook: ${target.url.origin} refused the change with 404; not retrying`]);
  });

  it.each([429, 500, 503])('retries a %i until the receiver takes the change', async (status) => {
    const target = await receiver((index) => (index < 2 ? status : 200));
    const { hook, log } = webhook(target.url, { retryDelayMs: 1 });
    hook.send(change('a'));
    await until(() => target.received.length === 3 && hook.pending === 0, 'the third try');
    expect(target.received.map((r) => r.body.rule)).toEqual(['a', 'a', 'a']);
    expect(log).toEqual(
      [1, 2].map((attempt) => `alert webhook: POST to ${target.url.origin} failed (try ${attempt} of 6): answered ${status}`),
    );
  });

  it('retries a network failure', async () => {
    const target = await receiver(() => 200);
    const { url } = target;
    await new Promise((resolve) => target.server.close(resolve)); // nothing listens there now
    const { hook, log } = webhook(url, { attempts: 3, retryDelayMs: 1 });
    hook.send(change('a'));
    await until(() => log.length === 4, 'the give-up line');
    expect(log.slice(0, 3).map((line) => line.replace(/: connect .*/, ''))).toEqual(
      [1, 2, 3].map((attempt) => `alert webhook: POST to ${url.origin} failed (try ${attempt} of 3)`),
    );
    expect(log[0]).toMatch(/: connect ECONNREFUSED /);
    expect(log[3]).toBe('alert webhook: gave up on the firing change of a after 3 tries');
    expect(hook.pending).toBe(0);
  });

  it('by default tries six times, waiting 1, 2, 4, 8 and 16 s between tries, then gives up at once and logs it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const target = await receiver(() => 500);
    const { hook, log } = webhook(target.url);
    hook.send(change('a'));
    await until(() => target.received.length === 1, 'the first try');
    const waits: number[] = [];
    for (let tries = 2; tries <= 6; tries++) {
      await advanceUntil(() => target.received.length === tries, `try ${tries}`, 40_000);
      waits.push((target.received[tries - 1]?.at ?? 0) - (target.received[tries - 2]?.at ?? 0));
    }
    // The fake clock moves while the real request is on its way, so a wait can read a little long, never short.
    const expected = [1000, 2000, 4000, 8000, 16_000];
    for (const [i, wait] of waits.entries()) {
      expect(wait).toBeGreaterThanOrEqual(expected[i] as number);
      expect(wait).toBeLessThan((expected[i] as number) + 200);
    }
    // The sixth failure is the last: the give-up comes without another wait.
    await until(() => log.length === 7, 'the give-up line');
    expect(log.at(-2)).toBe(`alert webhook: POST to ${target.url.origin} failed (try 6 of 6): answered 500`);
    expect(log.at(-1)).toBe('alert webhook: gave up on the firing change of a after 6 tries');
    await advanceUntil(() => false, 'a seventh try', 70_000).catch(() => {});
    expect(target.received).toHaveLength(6);
  }, 60_000);

  it('caps the wait between tries at a minute', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const target = await receiver(() => 500);
    const { hook } = webhook(target.url, { attempts: 3, retryDelayMs: 40_000 });
    hook.send(change('a'));
    await until(() => target.received.length === 1, 'the first try');
    await advanceUntil(() => target.received.length === 2, 'try 2', 45_000);
    const wait = await advanceUntil(() => target.received.length === 3, 'try 3', 65_000);
    expect(wait).toBeGreaterThanOrEqual(60_000);
    expect(wait).toBeLessThan(60_200);
  }, 60_000);

  it('stops retrying when closed, without a give-up line', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const target = await receiver(() => 500);
    const { hook, log } = webhook(target.url);
    hook.send(change('a'));
    await until(() => target.received.length === 1, 'the first try');
    await advanceUntil(() => target.received.length === 2, 'try 2', 5000);
    hook.close();
    hook.send(change('after close'));
    expect(hook.pending).toBe(0);
    await advanceUntil(() => false, 'another try', 40_000).catch(() => {});
    expect(target.received).toHaveLength(2);
    expect(log.filter((line) => line.includes('gave up'))).toEqual([]);
  }, 60_000);

  it('gives up on a receiver that does not answer within 5 s', async () => {
    const target = await receiver(() => null); // accepts, never answers
    const { hook, log } = webhook(target.url, { attempts: 1 });
    let gaveUpAt = 0;
    hook.send(change('a'));
    await until(() => target.received.length === 1, 'the request');
    const sentAt = performance.now();
    await until(
      () => {
        if (log.length > 0 && gaveUpAt === 0) gaveUpAt = performance.now();
        return log.length === 2;
      },
      'the timeout',
      20_000,
    );
    expect(log).toEqual([
      `alert webhook: POST to ${target.url.origin} failed (try 1 of 1): no answer within 5000 ms`,
      'alert webhook: gave up on the firing change of a after 1 tries',
    ]);
    // A lower bound only: the abort cannot come before its 5 s, however slow the machine.
    expect(gaveUpAt - sentAt).toBeGreaterThanOrEqual(4900);
  }, 30_000);

  it('keeps at most 1 000 changes waiting: past it the oldest goes, and is logged', async () => {
    const target = await receiver(() => null); // the first POST hangs, so everything else waits
    const { hook, log } = webhook(target.url);
    for (let i = 0; i < 1002; i++) hook.send(change(`rule-${i}`));
    expect(hook.pending).toBe(1000);
    expect(log).toEqual([
      'alert webhook: queue full, dropped the firing change of rule-0',
      'alert webhook: queue full, dropped the firing change of rule-1',
    ]);
  });

  it('after dropping the change in flight, sends the next one waiting: none is lost twice', async () => {
    const target = await receiver((index) => (index === 0 ? null : 200));
    const { hook, log } = webhook(target.url, { maxQueue: 2 });
    hook.send(change('first'));
    await until(() => target.received.length === 1, 'the first POST');
    hook.send(change('second'));
    hook.send(change('third')); // the queue holds first (in flight), second, third: first is dropped
    expect(log).toEqual(['alert webhook: queue full, dropped the firing change of first']);
    target.received[0]?.respond(200);
    await until(() => target.received.length === 3 && hook.pending === 0, 'the rest');
    expect(target.received.map((r) => r.body.rule)).toEqual(['first', 'second', 'third']);
  });
});

describe('alert webhook, more answers', () => {
  it('takes a 204 without a body as delivered', async () => {
    const target = await receiver(() => 204);
    const { hook, log } = webhook(target.url, { retryDelayMs: 1 });
    hook.send(change('a'));
    hook.send(change('b'));
    await until(() => target.received.length === 2 && hook.pending === 0, 'both deliveries');
    expect(target.received.map((r) => r.body.rule)).toEqual(['a', 'b']);
    expect(log).toEqual([]);
  });

  it.each([400, 499])('does not retry a %i either', async (status) => {
    const target = await receiver((index) => (index === 0 ? status : 200));
    const { hook, log } = webhook(target.url, { retryDelayMs: 1 });
    hook.send(change('a'));
    hook.send(change('b'));
    await until(() => target.received.length === 2 && hook.pending === 0, 'the next change');
    expect(target.received.map((r) => r.body.rule)).toEqual(['a', 'b']);
    expect(log).toEqual([`alert webhook: ${target.url.origin} refused the change with ${status}; not retrying`]);
  });

  it('follows no 3xx, a redirect or not: the change is dropped with a line saying so, and the next one sent', async () => {
    const target = await receiver((index) => (index === 0 ? 304 : 200));
    const { hook, log } = webhook(target.url, { retryDelayMs: 1 });
    hook.send(change('a'));
    hook.send(change('b'));
    await until(() => target.received.length === 2 && hook.pending === 0, 'the next change');
    expect(target.received.map((r) => r.body.rule)).toEqual(['a', 'b']);
    expect(log).toEqual([
      `alert webhook: ${target.url.origin} answered 304 (to (none)); redirects are not followed, so the firing change of a is dropped: point --alert-webhook at the final URL`,
    ]);
  });

  it('starts again when a change comes after it went idle', async () => {
    const target = await receiver(() => 200);
    const { hook } = webhook(target.url);
    hook.send(change('a'));
    await until(() => target.received.length === 1 && hook.pending === 0, 'the first delivery');
    await new Promise((resolve) => setImmediate(resolve));
    hook.send(change('b'));
    await until(() => target.received.length === 2, 'the second delivery');
    expect(target.received.map((r) => r.body.rule)).toEqual(['a', 'b']);
  });

  it('writes its lines to stderr, prefixed, when given no log', async () => {
    const target = await receiver(() => 404);
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    cleanups.push(() => spy.mockRestore());
    const hook = new AlertWebhook(target.url, { retryDelayMs: 1 });
    cleanups.push(() => hook.close());
    hook.send(change('a'));
    await until(() => written.length === 1, 'the line');
    expect(written).toEqual([`pulseboard: alert webhook: ${target.url.origin} refused the change with 404; not retrying\n`]);
  });
});
