import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAlertSettings } from '../../server/alerts/rules.js';
import type { Collector } from '../../server/collect/collector.js';
import type { AlertPayload } from '../../server/protocol.js';
import { testHost } from '../helpers/host.js';

const TEST_HOST = testHost('web-1');

import { httpReceiver } from '../helpers/receivers.js';
import { runCli, startTestServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';
import { steerableCpu } from '../helpers/steerable.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Three busy processes, as the processes collector reports them. */
const processes: Collector<'processes'> = {
  topic: 'processes',
  source: 'test',
  cadenceMs: 100,
  sample: (t) => ({
    t,
    count: 120,
    top: [
      { pid: 11, name: 'idle-thing', user: 'root', container: null, cpu: 1, rss: 1024 },
      { pid: 812, name: 'postgres', user: 'postgres', container: null, cpu: 71.25, rss: 1.25 * 2 ** 30 },
      { pid: 90, name: 'node server.js', user: 'app', container: 'web', cpu: 20, rss: 300 * 2 ** 20 },
      { pid: 7, name: 'backup.sh', user: 'root', container: null, cpu: 5, rss: 0 },
    ],
  }),
};

describe('alert channels in the running server', () => {
  it('a rule that fires and resolves reaches ntfy with host, value, top 3 and link; /healthz lists the channel, not its token', async () => {
    const ntfy = await httpReceiver();
    cleanups.push(ntfy.close);
    const settings = parseAlertSettings(
      {
        rules: [{ name: 'cpu-test', metric: 'cpu', above: 50 }],
        channels: [{ name: 'phone', type: 'ntfy', url: `${ntfy.base}/ops`, token_env: 'NTFY_TOKEN' }],
      },
      'rules.json',
      { NTFY_TOKEN: 'tk_integration_secret' },
    );
    const cpu = steerableCpu();
    const server = await startTestServer(
      { alerts: settings, publicUrl: new URL('https://board.example/') },
      { collectors: [cpu.collector, processes], host: TEST_HOST },
    );
    cleanups.push(() => server.close());
    const alerts: AlertPayload[] = [];
    let processSamples = 0;
    server.monitor.onEvent((event, data) => {
      if (event === 'alert') alerts.push(data as AlertPayload);
      if (event === 'processes') processSamples++;
    });

    await waitFor(() => processSamples > 0, 'a processes sample');
    cpu.set(95);
    await waitFor(() => ntfy.received.length === 1, 'the firing message');
    cpu.set(10);
    await waitFor(() => ntfy.received.length === 2, 'the resolved message');

    const [firing, resolved] = ntfy.received.map((r) => JSON.parse(r.body));
    const fired = alerts[0] as AlertPayload;
    expect(firing).toEqual({
      topic: 'ops',
      title: `CRITICAL: cpu-test on ${TEST_HOST.hostname}`,
      message: [
        'CPU 95 %, above 50 %',
        '95 % vs threshold 50 %',
        `firing since ${new Date(fired.since).toISOString().slice(0, 19).replace('T', ' ')} UTC`,
        'top processes then:',
        '1. postgres (pid 812): 71.3 % CPU, 1.3 GiB',
        '2. node server.js (pid 90, web): 20 % CPU, 300.0 MiB',
        '3. backup.sh (pid 7): 5 % CPU, 0 B',
      ].join('\n'),
      priority: 5,
      tags: ['rotating_light'],
      click: `https://board.example/?from=${fired.since - 15 * 60_000}&to=${fired.t + 5 * 60_000}`,
    });
    expect(resolved.title).toBe(`RESOLVED: cpu-test on ${TEST_HOST.hostname}`);
    expect(resolved.priority).toBe(3);
    expect(ntfy.received[0]?.headers.authorization).toBe('Bearer tk_integration_secret');

    // From the sample that fired the rule to the receiver, through engine, channel queue and HTTP.
    const latencies = [0, 1].map((i) => (ntfy.received[i]?.at ?? 0) - (alerts[i]?.t ?? 0));
    console.log(`alert delivery latency, sample to ntfy receiver: firing ${latencies[0]} ms, resolved ${latencies[1]} ms`);

    const health = await (await fetch(`${server.url}healthz`)).text();
    expect(JSON.parse(health).alerts).toEqual({
      channels: [{ name: 'phone', type: 'ntfy', ok: true, pending: 0, failures: 0, reason: null, since: null }],
    });
    expect(health).not.toContain('tk_integration_secret');

    // "Send a test" (the page's button): one message to that channel, whatever the rules.
    const test = await fetch(`${server.url}api/alerts/channels/phone/test`, { method: 'POST' });
    expect(`${test.status} ${await test.text()}`).toBe('202 {"queued":"phone"}');
    await waitFor(() => ntfy.received.length === 3, 'the test message');
    expect(JSON.parse(ntfy.received[2]?.body ?? '')).toMatchObject({
      title: `TEST: test on ${TEST_HOST.hostname}`,
      message: expect.stringContaining('This is a test message from pulseboard: the channel works.'),
      priority: 3,
      tags: ['test_tube'],
    });
    expect((await fetch(`${server.url}api/alerts/channels/nope/test`, { method: 'POST' })).status).toBe(404);
  });

  it('POST /api/alerts/:rule/silence?for=1h: behind the token, validated, a `silence` event and in the backfill; DELETE lifts it', async () => {
    const token = 'silence-test-token-0123456789';
    const cpu = steerableCpu();
    const server = await startTestServer(
      { token, alerts: parseAlertSettings({ rules: [{ name: 'cpu-test', metric: 'cpu', above: 50 }] }, 'rules.json', {}) },
      { collectors: [cpu.collector], host: TEST_HOST },
    );
    cleanups.push(() => server.close());
    const auth = { Authorization: `Bearer ${token}` };
    const post = (path: string, headers: Record<string, string> = auth, method = 'POST') =>
      fetch(`${server.url}${path}`, { method, headers });
    const answer = async (response: Response) => `${response.status} ${JSON.stringify(await response.json())}`;

    expect((await post('api/alerts/cpu-test/silence?for=1h', {})).status).toBe(401);
    const refusal = '400 {"error":"for: expected a duration from 1m to 30d, such as ?for=1h"}';
    for (const bad of ['', '?for=', '?for=10s', '?for=31d', '?for=soon', `?for=${'9'.repeat(40)}`]) {
      expect(await answer(await post(`api/alerts/cpu-test/silence${bad}`))).toBe(refusal);
    }
    expect(await answer(await post('api/alerts/nope/silence?for=1h'))).toBe('404 {"error":"no alert rule named \\"nope\\""}');
    expect((await post('api/alerts/cpu-test/silence?for=1h', { ...auth, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await post('api/alerts/cpu-test/silence?for=1h', { ...auth, Origin: 'https://evil.example' })).status).toBe(403);

    const stream = await openSse(`${server.url}api/events?topics=cpu`, auth);
    cleanups.push(() => stream.close());
    const before = Date.now();
    const response = await post('api/alerts/cpu-test/silence?for=1h');
    expect(response.status).toBe(200);
    const silence = (await response.json()) as { rule: string; until: number };
    expect(silence.rule).toBe('cpu-test');
    expect(silence.until).toBeGreaterThanOrEqual(before + 3_600_000);
    await stream.until(() => stream.events().some((e) => e.event === 'silence'));
    expect(stream.events().find((e) => e.event === 'silence')?.data).toEqual(silence);

    const fresh = await openSse(`${server.url}api/events?topics=cpu`, auth);
    cleanups.push(() => fresh.close());
    await fresh.until(() => fresh.events().some((e) => e.event === 'backfill'));
    expect(fresh.events().find((e) => e.event === 'backfill')?.data.silences).toEqual([{ ...silence, t: expect.any(Number) }]);

    expect(await answer(await post('api/alerts/cpu-test/silence', auth, 'DELETE'))).toMatch(
      /^200 \{"t":\d+,"rule":"cpu-test","until":null\}$/,
    );
    await stream.until(() => stream.events().filter((e) => e.event === 'silence').length === 2);
  });

  it('alert history and silences survive a restart: GET /api/alerts?from=&to= answers from the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pulseboard-alert-history-'));
    const alerts = parseAlertSettings({ rules: [{ name: 'cpu-test', metric: 'cpu', above: 50 }] }, 'rules.json', {});
    const cpu = steerableCpu();
    const first = await startTestServer({ alerts, dataDir }, { collectors: [cpu.collector], host: TEST_HOST });
    const changes: AlertPayload[] = [];
    first.monitor.onEvent((event, data) => {
      if (event === 'alert') changes.push(data as AlertPayload);
    });
    const start = Date.now();
    cpu.set(95);
    await waitFor(() => changes.length === 1, 'firing');
    cpu.set(10);
    await waitFor(() => changes.length === 2, 'resolved');
    expect((await fetch(`${first.url}api/alerts/cpu-test/silence?for=2h`, { method: 'POST' })).status).toBe(200);
    await first.close();

    const second = await startTestServer({ alerts, dataDir }, { collectors: [steerableCpu().collector], host: TEST_HOST });
    cleanups.push(() => second.close());
    const response = await fetch(`${second.url}api/alerts?from=${start - 1000}&to=now`);
    expect(response.status).toBe(200);
    const history = (await response.json()) as { changes: AlertPayload[]; ranges: unknown[] };
    expect(history.changes).toEqual(changes);
    expect(history.ranges).toEqual([
      { rule: 'cpu-test', metric: 'cpu', severity: 'critical', from: changes[0]?.since, to: changes[1]?.t, end: 'resolved' },
    ]);
    expect(second.monitor.notifier.silences.isSilenced('cpu-test', Date.now())).toBe(true);

    for (const [query, error] of [
      ['', 'from is required with to or points'],
      ['?from=soon', 'from must be ms since epoch, "now" or a duration back from now such as -24h'],
      ['?from=-1h&to=-2h', expect.stringMatching(/^from \(\d+\) must be before to \(\d+\)$/)],
    ] as const) {
      const bad = await fetch(`${second.url}api/alerts${query}`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error });
    }
  });

  it('pulseboard test-alert --channel NAME: one test message; exit 0 when it arrived, 1 with the reason (never the secret), 2 for no such channel', async () => {
    let answer = 200;
    const ntfy = await httpReceiver(() => answer);
    cleanups.push(ntfy.close);
    const rules = join(mkdtempSync(join(tmpdir(), 'pulseboard-test-alert-')), 'rules.json');
    writeFileSync(rules, JSON.stringify({ channels: [{ name: 'phone', type: 'ntfy', url: `${ntfy.base}/ops`, token_env: 'NTFY_TOKEN' }] }));
    const env = { NTFY_TOKEN: 'tk_cli_secret' };

    const sent = await runCli(['test-alert', '--channel', 'phone', '--alert-rules', rules, '--public-url', 'https://board.example/'], env);
    expect(sent).toMatchObject({ code: 0, stdout: 'pulseboard test-alert: sent a test message to "phone" (ntfy)\n', stderr: '' });
    expect(JSON.parse(ntfy.received[0]?.body ?? '')).toMatchObject({
      topic: 'ops',
      title: expect.stringMatching(/^TEST: test on /),
      priority: 3,
    });
    expect(JSON.parse(ntfy.received[0]?.body ?? '').click).toMatch(/^https:\/\/board\.example\/\?from=\d+&to=\d+$/);

    answer = 500;
    const failed = await runCli(['test-alert', `--channel=phone`, '--alert-rules', rules], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toEqual([
      `pulseboard: alert channel "phone" (ntfy): POST to ${ntfy.base} failed (try 1 of 1): answered 500`,
      'pulseboard: alert channel "phone" (ntfy): gave up on the test message after 1 tries',
      'pulseboard: test-alert: channel "phone" (ntfy) failed: answered 500',
    ]);
    expect(failed.stderr).not.toContain('tk_cli_secret');

    const unknown = await runCli(['test-alert', '--channel', 'pager', '--alert-rules', rules], env);
    expect(unknown).toMatchObject({ code: 2, stderr: 'pulseboard: test-alert: no channel named "pager"; channels: phone\n' });
  });

  it("repeat: the running server sends a reminder to the rule's channels while it fires (sample time: a collector a minute a sample)", async () => {
    const hook = await httpReceiver();
    cleanups.push(hook.close);
    const alerts = parseAlertSettings(
      {
        rules: [{ name: 'cpu-test', metric: 'cpu', above: 50, repeat: '2m' }],
        channels: [{ name: 'hook', type: 'webhook', url: `${hook.base}/hook` }],
      },
      'rules.json',
      {},
    );
    // Each sample is a minute after the one before: the rule's `repeat` is in sample time.
    let minutes = 0;
    const start = Date.now();
    const fastClock: Collector<'cpu'> = {
      topic: 'cpu',
      source: 'test',
      cadenceMs: 50,
      sample: () => ({ t: start + 60_000 * minutes++, total: 95, user: 95, system: 0, iowait: 0, cores: [95], load: [0, 0, 0] }),
    };
    const server = await startTestServer({ alerts }, { collectors: [fastClock], host: TEST_HOST });
    cleanups.push(() => server.close());
    await waitFor(() => hook.received.length >= 3, 'the firing and two reminders');
    const [firing, first, second] = hook.received.slice(0, 3).map((r) => JSON.parse(r.body));
    expect([firing.kind, first.kind, second.kind]).toEqual(['firing', 'repeat', 'repeat']);
    expect([first.t - firing.t, second.t - first.t]).toEqual([120_000, 120_000]);
    expect(first.since).toBe(firing.since);
  });

  it('a firing message quotes the processes of the moment, walked at once when no page shows them (walked once a minute then)', async () => {
    const hook = await httpReceiver();
    cleanups.push(hook.close);
    const alerts = parseAlertSettings(
      { rules: [{ name: 'cpu-test', metric: 'cpu', above: 50 }], channels: [{ name: 'hook', type: 'webhook', url: `${hook.base}/hook` }] },
      'rules.json',
      {},
    );
    let walks = 0;
    // As the real one: every 5 s while a stream wants it, once a minute while none does.
    const slowProcesses: Collector<'processes'> = {
      topic: 'processes',
      source: 'test',
      cadenceMs: 5000,
      idleCadenceMs: 60_000,
      sample: (t) => {
        walks++;
        return { t, count: 1, top: [{ pid: 4000 + walks, name: `walk-${walks}`, user: 'app', container: null, cpu: 80, rss: 1024 }] };
      },
    };
    const cpu = steerableCpu();
    const server = await startTestServer({ alerts }, { collectors: [cpu.collector, slowProcesses], host: TEST_HOST });
    cleanups.push(() => server.close());
    await waitFor(() => walks >= 1, 'the first walk');
    const walksBefore = walks;
    cpu.set(95);
    await waitFor(() => hook.received.length >= 1, 'the firing message');
    const firing = JSON.parse(hook.received[0]?.body ?? '{}');
    expect(walks).toBe(walksBefore + 1);
    expect(firing.top.map((p: { name: string }) => p.name)).toEqual([`walk-${walksBefore + 1} (pid ${4000 + walksBefore + 1})`]);
  });
});
