import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsKey } from '../../server/fleet/keys.js';
import type { FleetStatus, HelloPayload } from '../../server/protocol.js';
import { type Browser, launchBrowser } from '../helpers/chromium.js';
import { type RunningRedis, startRedis } from '../helpers/redis.js';
import { type CliProcess, runCli, type ServerProcess, spawnAgent, spawnServer } from '../helpers/server.js';
import { openSse, type SseConnection, seqOf } from '../helpers/sse-reader.js';

/**
 * The fleet as separate processes: Debian's redis-server, three agents and two hubs. Agents sample every
 * 200 ms so that seconds of test time carry dozens of events.
 */
const INTERVAL = '200ms';
const HOSTS = ['web-1', 'web-2', 'web-3'] as const;
/** web-3 keeps a small backlog: an outage longer than it holds must lose the oldest events, and only those. */
const SMALL_BACKLOG = 100;

let redis: RunningRedis;
const agents = new Map<string, CliProcess>();
let hubA: ServerProcess;
let hubB: ServerProcess;
let browser: Browser | undefined;
const open: SseConnection[] = [];

const startHub = () => spawnServer(['--redis', redis.url, '--port', '0']);
const fleetOf = async (hub: ServerProcess) => (await (await fetch(`${hub.url}api/fleet`)).json()) as FleetStatus;

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stream(hub: ServerProcess, host: string, lastEventId?: string): Promise<SseConnection> {
  const connection = await openSse(`${hub.url}api/events?host=${host}`, lastEventId ? { 'Last-Event-ID': lastEventId } : {});
  open.push(connection);
  return connection;
}

/** Ids that follow each other with nothing missing and nothing twice. */
const expectConsecutive = (seqs: number[]) => expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));

/** Events after the handshake (hello, and the backfill of a fresh or reset stream). */
const liveEvents = (connection: SseConnection) =>
  connection.events().filter((event) => event.event !== 'hello' && event.event !== 'backfill');

beforeAll(async () => {
  redis = await startRedis();
  for (const name of HOSTS) {
    const backlog = name === 'web-3' ? ['--backlog', String(SMALL_BACKLOG)] : [];
    agents.set(name, await spawnAgent(['--redis', redis.url, '--name', name, '--interval', INTERVAL, '--history', '10m', ...backlog]));
  }
  [hubA, hubB] = await Promise.all([startHub(), startHub()]);
}, 60_000);

afterAll(async () => {
  for (const connection of open) connection.close();
  await browser?.close();
  await Promise.all([hubA?.stop(), hubB?.stop(), ...[...agents.values()].map((agent) => agent.stop())]);
  await redis?.destroy();
});

describe('a fleet over Redis Streams: 3 agents, 2 hubs', () => {
  it('shows every host on both hubs, each with its own figures', async () => {
    for (const hub of [hubA, hubB]) {
      const fleet = await until(
        () => fleetOf(hub),
        (status) => status.redis.ok && status.hosts.length === 3 && status.hosts.every((host) => !host.stale && host.cpu !== null),
        10_000,
        `three live hosts on ${hub.url}`,
      );
      expect(fleet.hosts.map((host) => host.name)).toEqual([...HOSTS]);
      for (const host of fleet.hosts) expect(host.memory?.total).toBeGreaterThan(0);
    }
    // A host's board: the hello names the host, and a board for an unknown host is a clear 404.
    const connection = await stream(hubA, 'web-2');
    await connection.until((frames) => frames.some((frame) => frame.event === 'backfill'));
    const hello = JSON.parse(connection.frames.find((frame) => frame.event === 'hello')?.data ?? '{}') as HelloPayload;
    expect(hello.interval).toBe(200);
    connection.close();
    const unknown = await fetch(`${hubA.url}api/events?host=db-9`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toContain('web-1, web-2, web-3');
    expect((await fetch(`${hubA.url}api/events`)).status).toBe(400);
  });

  it('resumes a client cut from hub A on hub B with exactly the events it missed', async () => {
    const first = await stream(hubA, 'web-1');
    await first.until(() => liveEvents(first).length >= 10);
    first.close();
    const lastId = liveEvents(first).at(-1)?.id as string;
    await until(
      () => redis.client().xrange(eventsKey('web-1'), `(${lastId}`, '+', 'COUNT', 5),
      (missed) => missed.length === 5,
      10_000,
      'five events the client misses',
    );

    const second = await stream(hubB, 'web-1', lastId);
    await second.until(() => liveEvents(second).length >= 20);
    const hello = JSON.parse(second.frames.find((frame) => frame.event === 'hello')?.data ?? '{}') as HelloPayload;
    expect(hello.mode).toBe('resume');
    expect(second.events().some((event) => event.event === 'backfill')).toBe(false);
    // The ids are the stream's: the missed events are the stream's entries right after the last one seen.
    const received = liveEvents(second)
      .slice(0, 20)
      .map((event) => event.id);
    const inRedis = (await redis.client().xrange(eventsKey('web-1'), `(${lastId}`, '+', 'COUNT', 20)).map(([id]) => id);
    expect(received).toEqual(inRedis);
    const seqs = received.map((id) => seqOf(id));
    expect(seqs[0]).toBe(seqOf(lastId) + 1);
    expectConsecutive(seqs);
    second.close();
  });

  it('keeps history when hub A is killed: it lives in Redis, and ids resume across the restart', async () => {
    const before = await stream(hubA, 'web-1');
    await before.until(() => liveEvents(before).length >= 5);
    const lastId = liveEvents(before).at(-1)?.id as string;
    const historyBefore = (await (await fetch(`${hubA.url}api/history?host=web-1&topics=cpu&since=10m`)).json()) as {
      series: { cpu: { t: number[] } };
    };
    await hubA.stop('SIGKILL');
    hubA = await startHub();

    const history = (await (
      await until(
        () => fetch(`${hubA.url}api/history?host=web-1&topics=cpu&since=10m`),
        (response) => response.status === 200,
        10_000,
        'the restarted hub to know web-1',
      )
    ).json()) as { series: { cpu: { t: number[] } } };
    expect(history.series.cpu.t[0]).toBe(historyBefore.series.cpu.t[0]);
    expect(history.series.cpu.t.length).toBeGreaterThanOrEqual(historyBefore.series.cpu.t.length);

    const after = await stream(hubA, 'web-1', lastId);
    await after.until(() => liveEvents(after).length >= 5);
    const hello = JSON.parse(after.frames.find((frame) => frame.event === 'hello')?.data ?? '{}') as HelloPayload;
    expect(hello.mode).toBe('resume');
    expect(seqOf(liveEvents(after)[0]?.id)).toBe(seqOf(lastId) + 1);
    after.close();
  });

  it("serves one host's full board in the browser, and tabs of two hosts keep their own streams", async () => {
    browser = await launchBrowser();
    const pages = await Promise.all(['web-1', 'web-2'].map(() => browser?.context.newPage()));
    for (const [i, page] of pages.entries()) {
      await page?.goto(`${hubA.url}?host=web-${i + 1}`);
      await page?.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live');
    }
    for (const [i, page] of pages.entries()) {
      await page?.waitForFunction(() => (window as any).__pulseboardDebug.points('cpu.total') > 5);
      const lastId = await page?.evaluate(() => (window as any).__pulseboardDebug.lastEventId() as string);
      // Each tab's ids are its own host's stream ids.
      const [entry] = await redis.client().xrange(eventsKey(`web-${i + 1}`), lastId as string, lastId as string);
      expect(entry?.[0]).toBe(lastId);
      expect(await page?.textContent('.back')).toContain('fleet');
    }
    await Promise.all(pages.map((page) => page?.close()));
  });

  it('rides out Redis stopping for 10 s: agents flush their backlog in order, hubs and pages show the outage and recover', async () => {
    browser ??= await launchBrowser();
    const page = await browser.context.newPage();
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('.js')) scripts.push(new URL(request.url()).pathname);
    });
    await page.goto(hubB.url);
    await page.waitForFunction(() => document.querySelectorAll('.tile').length === 3);
    expect(await page.getAttribute('#status', 'data-state')).toBe('live');
    // The overview draws no chart: Chart.js is not loaded, in a worker or on the page.
    expect(scripts.filter((path) => /chart-(worker|renderer)-/.test(path))).toEqual([]);

    const watching = await stream(hubB, 'web-2');
    await watching.until(() => liveEvents(watching).length >= 5);
    const smallBacklog = await stream(hubB, 'web-3');
    await smallBacklog.until(() => liveEvents(smallBacklog).length >= 5);

    await redis.stop();
    const stoppedAt = Date.now();
    // The hubs say so, and so do the page's pill and tiles (no host is heard from while Redis is away).
    await until(
      () => fleetOf(hubA),
      (status) => !status.redis.ok,
      5000,
      'hub A to see Redis down',
    );
    const health = (await (await fetch(`${hubB.url}healthz`)).json()) as { status: string };
    expect(health.status).toBe('degraded');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('Redis unreachable'), null, {
      timeout: 5000,
    });
    await page.waitForFunction(
      () => [...document.querySelectorAll('.tile')].every((tile) => tile.getAttribute('data-state') === 'stale'),
      null,
      {
        timeout: 9000,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
    await redis.start();
    const restartedAt = Date.now();

    await until(
      () => fleetOf(hubB),
      (status) => status.redis.ok && status.hosts.every((host) => !host.stale),
      15_000,
      'hosts live again',
    );
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', null, { timeout: 5000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('.tile')].every((tile) => tile.getAttribute('data-state') !== 'stale'),
      null,
      {
        timeout: 5000,
      },
    );

    // web-2's client got every event of the outage, in order, once: consecutive ids, cpu samples every ~200 ms.
    await watching.until(() => liveEvents(watching).some((event) => event.event === 'cpu' && event.data.t > restartedAt + 1000), 10_000);
    const events = liveEvents(watching);
    const seqs = events.map((event) => seqOf(event.id));
    expectConsecutive(seqs);
    const inRedis = await redis.client().xrange(eventsKey('web-2'), events[0]?.id as string, events.at(-1)?.id as string);
    expect(events.map((event) => event.id)).toEqual(inRedis.map(([id]) => id));
    const cpuTimes = events.filter((event) => event.event === 'cpu').map((event) => event.data.t as number);
    expect(cpuTimes).toEqual([...cpuTimes].sort((a, b) => a - b));
    // The agent kept sampling through the outage (every 200 ms) and dropped nothing. The bounds are loose on
    // purpose: sampling that waited for Redis would leave a 10 s hole and nothing in between.
    const duringOutage = cpuTimes.filter((t) => t > stoppedAt + 500 && t < restartedAt - 500);
    expect(duringOutage.length).toBeGreaterThanOrEqual(10);
    const gaps = cpuTimes.slice(1).map((t, i) => t - (cpuTimes[i] as number));
    expect(Math.max(...gaps)).toBeLessThan(5000);
    expect(agents.get('web-2')?.output()).not.toMatch(/were dropped/);

    // web-3 kept only its last 100 events: the oldest of the outage are gone, the rest arrive in order.
    await smallBacklog.until(() => liveEvents(smallBacklog).some((event) => event.data.t > restartedAt + 1000), 10_000);
    const small = liveEvents(smallBacklog);
    const smallSeqs = small.map((event) => seqOf(event.id));
    expectConsecutive(smallSeqs);
    const fromOutage = small.filter((event) => event.data.t > stoppedAt + 300 && event.data.t < restartedAt - 300);
    expect(fromOutage.length).toBeLessThanOrEqual(SMALL_BACKLOG);
    expect(fromOutage.length).toBeGreaterThan(SMALL_BACKLOG / 2);
    const smallCpu = small.filter((event) => event.event === 'cpu').map((event) => event.data.t as number);
    expect(Math.max(...smallCpu.slice(1).map((t, i) => t - (smallCpu[i] as number)))).toBeGreaterThan(2000);
    expect(agents.get('web-3')?.output()).toMatch(/\d+ events were dropped while Redis was away/);
  }, 90_000);

  it('exports every host on GET /metrics of a hub, in the Prometheus text format', async () => {
    const text = await (await fetch(`${hubA.url}metrics`)).text();
    const families = parsePrometheus(text) as {
      name: string;
      type: string;
      metrics: { value: string; labels?: Record<string, string> }[];
    }[];
    const cpu = families.find((family) => family.name === 'pulseboard_cpu_usage_ratio');
    expect(cpu?.type).toBe('GAUGE');
    expect(cpu?.metrics.map((metric) => metric.labels?.host).sort()).toEqual([...HOSTS]);
    for (const metric of cpu?.metrics ?? []) expect(Number(metric.value)).toBeLessThanOrEqual(1);
  });

  it('refuses a bad fleet set-up with one clear line', async () => {
    const noRedis = await runCli(['agent', '--name', 'x']);
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr.trim()).toBe('pulseboard: agent needs --redis <url> to send its events to (see --help)');
    const badUrl = await runCli(['--redis', 'http://127.0.0.1:6379']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('expected a Redis URL such as redis://127.0.0.1:6379');
    const badName = await runCli(['agent', '--redis', redis.url, '--name', 'web 1']);
    expect(badName.code).toBe(2);
    expect(badName.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
