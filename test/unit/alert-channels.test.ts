import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelConfig } from '../../server/alerts/channel-config.js';
import { AlertChannels, type Channel, openChannel } from '../../server/alerts/channels.js';
import { type AlertNotice, boardLink, noticeText, topProcesses } from '../../server/alerts/notice.js';
import { AlertNotifier } from '../../server/alerts/notifier.js';
import { AlertRulesError, DEFAULT_ALERT_SETTINGS, parseAlertSettings } from '../../server/alerts/rules.js';
import type { AlertPayload, ChannelHealth } from '../../server/protocol.js';
import { decodeQuotedPrintable, httpReceiver, smtpSink } from '../helpers/receivers.js';
import { selfSignedCertificate } from '../helpers/tls.js';

const T = Date.UTC(2026, 10, 26, 4, 50, 0);
const ALERT: AlertPayload = {
  t: T,
  rule: 'cpu-busy',
  metric: 'cpu',
  state: 'firing',
  severity: 'critical',
  value: 93.44,
  threshold: 90,
  since: T - 60_000,
  message: 'CPU 93.4 %, above 90 % for 60 s',
};
const LINK = `https://board.example/?from=${T - 16 * 60_000}&to=${T + 5 * 60_000}`;
const NOTICE: AlertNotice = {
  kind: 'firing',
  alert: ALERT,
  host: 'web-1',
  topOf: 'processes',
  top: [
    { name: 'postgres (pid 812)', usage: '71.2 % CPU, 1.2 GiB' },
    { name: 'node server.js (pid 90, web)', usage: '20 % CPU, 300.0 MiB' },
    { name: '<kworker> & co (pid 7)', usage: '5 % CPU, 0 B' },
  ],
  link: LINK,
};
/** The body every channel carries, as the services show it. */
const LINES = [
  'CPU 93.4 %, above 90 % for 60 s',
  '93.4 % vs threshold 90 %',
  'firing since 2026-11-26 04:49:00 UTC',
  'top processes then:',
  '1. postgres (pid 812): 71.2 % CPU, 1.2 GiB',
  '2. node server.js (pid 90, web): 20 % CPU, 300.0 MiB',
  '3. <kworker> & co (pid 7): 5 % CPU, 0 B',
];
const ESCAPED = LINES.map((line) => line.replace('<kworker> & co', '&lt;kworker&gt; &amp; co'));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(answer?: (index: number) => number | null) {
  const target = await httpReceiver(answer);
  cleanups.push(target.close);
  return target;
}

function channel(config: ChannelConfig, options: Parameters<typeof openChannel>[1] = {}): { channel: Channel; log: string[] } {
  const log: string[] = [];
  const opened = openChannel(config, { log: (line) => log.push(line), retryDelayMs: 1, ...options });
  cleanups.push(() => opened.close());
  return { channel: opened, log };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('each channel posts its service’s exact payload', () => {
  it('ntfy: JSON publish to the server root, topic in the body, priority 5 for critical, bearer token', async () => {
    const target = await receiver();
    const { channel: ntfy } = channel({ name: 'phone', type: 'ntfy', url: new URL(`${target.base}/alerts`), token: 'tk_secret' });
    ntfy.send(NOTICE);
    await until(() => target.received.length === 1, 'the ntfy message');
    const [message] = target.received;
    expect(message?.method).toBe('POST');
    expect(message?.path).toBe('/');
    expect(message?.headers.authorization).toBe('Bearer tk_secret');
    expect(message?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(message?.body ?? '')).toEqual({
      topic: 'alerts',
      title: 'CRITICAL: cpu-busy on web-1',
      message: LINES.join('\n'),
      priority: 5,
      tags: ['rotating_light'],
      click: LINK,
    });
  });

  it('slack: an incoming-webhook `text` in mrkdwn, with &, < and > escaped and the link as <url|label>', async () => {
    const target = await receiver();
    const { channel: slack } = channel({ name: 'ops', type: 'slack', url: new URL(`${target.base}/services/T0/B0/xyz`) });
    slack.send({ ...NOTICE, kind: 'resolved', alert: { ...ALERT, state: 'resolved', value: 40, since: T, message: 'CPU back to 40 %' } });
    await until(() => target.received.length === 1, 'the slack message');
    expect(target.received[0]?.path).toBe('/services/T0/B0/xyz');
    expect(JSON.parse(target.received[0]?.body ?? '')).toEqual({
      text: [
        '*RESOLVED: cpu-busy on web-1*',
        'CPU back to 40 %',
        '40 % vs threshold 90 %',
        'resolved at 2026-11-26 04:50:00 UTC',
        ...ESCAPED.slice(3),
        `<${LINK}|Open the board at that time>`,
      ].join('\n'),
    });
  });

  it('discord: one embed coloured by severity, link as its url, no mentions allowed', async () => {
    const target = await receiver(() => 204);
    const { channel: discord } = channel({ name: 'chat', type: 'discord', url: new URL(`${target.base}/api/webhooks/1/tok`) });
    discord.send({ ...NOTICE, alert: { ...ALERT, severity: 'warning' } });
    await until(() => target.received.length === 1, 'the discord message');
    expect(target.received[0]?.path).toBe('/api/webhooks/1/tok');
    expect(JSON.parse(target.received[0]?.body ?? '')).toEqual({
      username: 'pulseboard',
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: 'WARNING: cpu-busy on web-1',
          description: LINES.join('\n'),
          url: LINK,
          color: 0xf29900,
          timestamp: '2026-11-26T04:50:00.000Z',
        },
      ],
    });
  });

  it('telegram: sendMessage of the bot, HTML mode, chat id as given', async () => {
    const target = await receiver();
    const { channel: telegram } = channel({
      name: 'tg',
      type: 'telegram',
      token: '123:ABC',
      chatId: '-1001',
      apiUrl: new URL(target.base),
    });
    telegram.send({ ...NOTICE, kind: 'repeat' });
    await until(() => target.received.length === 1, 'the telegram message');
    expect(target.received[0]?.path).toBe('/bot123:ABC/sendMessage');
    expect(JSON.parse(target.received[0]?.body ?? '')).toEqual({
      chat_id: '-1001',
      text: [
        '<b>STILL CRITICAL: cpu-busy on web-1</b>',
        ...ESCAPED,
        `<a href="${LINK.replaceAll('&', '&amp;')}">Open the board at that time</a>`,
      ].join('\n'),
      parse_mode: 'HTML',
      disable_web_page_preview: true,
    });
  });

  it('webhook: the `alert` payload with kind, host, top and link added', async () => {
    const target = await receiver();
    const { channel: hook } = channel({ name: 'generic', type: 'webhook', url: new URL(`${target.base}/hook`) });
    hook.send(NOTICE);
    await until(() => target.received.length === 1, 'the webhook POST');
    expect(JSON.parse(target.received[0]?.body ?? '')).toEqual({
      ...ALERT,
      kind: 'firing',
      host: 'web-1',
      topOf: 'processes',
      top: NOTICE.top,
      link: LINK,
    });
  });

  it('email: one SMTP message with login, subject and the plain-text body', async () => {
    const sink = await smtpSink({ user: 'alerts', password: 'smtp-pass' });
    cleanups.push(sink.close);
    const { channel: email } = channel({
      name: 'mail',
      type: 'email',
      host: '127.0.0.1',
      port: sink.port,
      security: 'none',
      user: 'alerts',
      password: 'smtp-pass',
      from: 'pulseboard@example.com',
      to: ['ops@example.com', 'oncall@example.com'],
      ca: null,
    });
    email.send(NOTICE);
    await until(() => sink.mails.length === 1, 'the email');
    const [mail] = sink.mails;
    expect(mail?.from).toBe('pulseboard@example.com');
    expect(mail?.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(mail?.user).toBe('alerts');
    const [head, ...body] = (mail?.raw ?? '').split('\r\n\r\n');
    expect(head).toMatch(/^Subject: \[pulseboard\] CRITICAL: cpu-busy on web-1$/m);
    expect(head).toMatch(/^To: ops@example.com, oncall@example.com$/m);
    const text = body.join('\r\n\r\n');
    const quoted = /^Content-Transfer-Encoding: quoted-printable$/m.test(head ?? '');
    expect((quoted ? decodeQuotedPrintable(text) : text).replaceAll('\r\n', '\n').trimEnd()).toBe([...LINES, LINK].join('\n'));
    expect(noticeText(NOTICE)).toBe([...LINES, LINK].join('\n'));
  });

  it('email: a refused login is not retried, and the channel says why without the password', async () => {
    const sink = await smtpSink({ user: 'alerts', password: 'right' });
    cleanups.push(sink.close);
    const { channel: email, log } = channel(
      {
        name: 'mail',
        type: 'email',
        host: '127.0.0.1',
        port: sink.port,
        security: 'none',
        user: 'alerts',
        password: 'wrong-secret',
        from: 'a@example.com',
        to: ['b@example.com'],
        ca: null,
      },
      { failingAfter: 1 },
    );
    email.send(NOTICE);
    await until(() => !email.health().ok, 'the failing health');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^alert channel "mail" \(email\): 127\.0\.0\.1:\d+ refused the message: .*535.*; not retrying$/);
    expect(email.health().reason).toMatch(/535/);
    expect(JSON.stringify([log, email.health()])).not.toContain('wrong-secret');
  });
});

describe('email over STARTTLS', () => {
  const certificate = selfSignedCertificate();
  const tls = { key: readFileSync(certificate.keyPath), cert: certificate.cert };
  const config = (port: number, ca: string | null): ChannelConfig => ({
    name: 'mail',
    type: 'email',
    host: '127.0.0.1',
    port,
    security: 'starttls',
    user: 'alerts',
    password: 'smtp-pass',
    from: 'a@example.com',
    to: ['b@example.com'],
    ca,
  });

  it('upgrades to TLS before logging in, trusting the tls_ca_file', async () => {
    const sink = await smtpSink({ user: 'alerts', password: 'smtp-pass' }, tls);
    cleanups.push(sink.close);
    const { channel: email } = channel(config(sink.port, certificate.cert.toString()));
    email.send(NOTICE);
    await until(() => sink.mails.length === 1, 'the email');
    expect(sink.mails[0]).toMatchObject({ user: 'alerts', secure: true, to: ['b@example.com'] });
  });

  it('sends nothing (not the password either) to a server whose certificate it cannot trust, or that offers no STARTTLS', async () => {
    const untrusted = await smtpSink({ user: 'alerts', password: 'smtp-pass' }, tls);
    const plain = await smtpSink({ user: 'alerts', password: 'smtp-pass' });
    cleanups.push(untrusted.close, plain.close);
    const reasons: string[] = [];
    for (const sink of [untrusted, plain]) {
      const { channel: email, log } = channel(config(sink.port, null), { attempts: 1, failingAfter: 1 });
      email.send(NOTICE);
      await until(() => !email.health().ok && email.pending === 0, 'the failure');
      expect(sink.mails).toEqual([]);
      reasons.push(email.health().reason ?? '');
      expect(log.join('\n')).not.toContain('smtp-pass');
    }
    expect(reasons[0]).toBe('self-signed certificate');
    expect(reasons[1]).toMatch(/STARTTLS/);
  });
});

describe('delivery you can trust', () => {
  it('a channel that keeps failing reports it in its health, with the reason and never the token, until one try succeeds', async () => {
    let failing = true;
    const target = await receiver(() => (failing ? 500 : 200));
    const { channel: telegram, log } = channel(
      { name: 'tg', type: 'telegram', token: '999:SECRET', chatId: '5', apiUrl: new URL(target.base) },
      { attempts: 3 },
    );
    telegram.send(NOTICE);
    await until(() => log.some((line) => line.includes('gave up')), 'the give-up line');
    expect(telegram.health()).toMatchObject({ name: 'tg', type: 'telegram', ok: false, failures: 3, reason: 'answered 500' });
    expect(log[0]).toBe(`alert channel "tg" (telegram): POST to ${target.base} failed (try 1 of 3): answered 500`);
    expect(JSON.stringify([log, telegram.health()])).not.toContain('SECRET');
    failing = false;
    telegram.send(NOTICE);
    await until(() => telegram.health().ok, 'health back to ok');
    expect(telegram.health()).toEqual({ name: 'tg', type: 'telegram', ok: true, pending: 0, failures: 0, reason: null, since: null });
  });

  it('replaces a secret that a receiver echoes (a redirect to the secret URL) by *** in the log and the health', async () => {
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(307, { Location: `${request.url}/v2` }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const { channel: slack, log } = channel(
      { name: 'ops', type: 'slack', url: new URL(`${base}/services/T0/B0/SEKRIT`) },
      { failingAfter: 1 },
    );
    slack.send(NOTICE);
    await until(() => log.length === 1 && !slack.health().ok, 'the dropped line');
    expect(log[0]).toBe(
      `alert channel "ops" (slack): ${base} answered 307 (to ***/v2); redirects are not followed, so the firing message of cpu-busy is dropped: point the URL of channel "ops" at the final URL`,
    );
    expect(slack.health().reason).toContain('(to ***/v2)');
  });

  it('tells the monitor when a channel starts and stops failing (its `health` event), with the reason', async () => {
    // Down for the first three tries, up from the fourth: set by the receiver itself, not by the test after it
    // saw the failing change (the fourth try could come first on a busy machine, and then nothing recovers).
    let answered = 0;
    const target = await receiver(() => (++answered <= 3 ? 503 : 200));
    const changes: ChannelHealth[][] = [];
    const notifier = new AlertNotifier({
      settings: { ...DEFAULT_ALERT_SETTINGS, channels: [{ name: 'hook', type: 'webhook', url: new URL(`${target.base}/hook`) }] },
      webhook: null,
      publicUrl: null,
      host: 'web-1',
      onHealthChange: (channels) => changes.push(channels),
      channel: { retryDelayMs: 1, attempts: 4, log: () => {} },
    });
    cleanups.push(() => notifier.close());
    notifier.notify(ALERT);
    await until(() => changes.length === 1, 'the failing change');
    expect(changes[0]).toEqual([
      { name: 'hook', type: 'webhook', ok: false, pending: 1, failures: 3, reason: 'answered 503', since: expect.any(Number) },
    ]);
    await until(() => changes.length === 2, 'the recovery');
    expect(changes[1]?.[0]).toMatchObject({ ok: true, failures: 0, reason: null, since: null });
  });

  it('a hung channel holds up neither sending nor the other channels', async () => {
    const hung = await receiver(() => null);
    const good = await receiver();
    const slow = channel({ name: 'slow', type: 'slack', url: new URL(`${hung.base}/hook`) }).channel;
    const fast = channel({ name: 'fast', type: 'ntfy', url: new URL(`${good.base}/t`), token: null }).channel;
    const channels = new AlertChannels([slow, fast], { byRule: new Map(), defaults: null });
    for (let i = 0; i < 5; i++) channels.notify({ ...NOTICE, alert: { ...ALERT, t: T + i } });
    await until(() => good.received.length === 5, 'all five on the good channel');
    expect(hung.received).toHaveLength(1);
    expect(slow.pending).toBe(5);
  });

  it('routes a rule to its own channels and the others to the default route', async () => {
    const target = await receiver();
    const open = (name: string) => channel({ name, type: 'webhook', url: new URL(`${target.base}/${name}`) }).channel;
    const channels = new AlertChannels([open('a'), open('b'), open('c')], {
      byRule: new Map([
        ['disk', ['c']],
        ['quiet', []],
      ]),
      defaults: ['a', 'b'],
    });
    channels.notify({ ...NOTICE, alert: { ...ALERT, rule: 'disk' } });
    channels.notify({ ...NOTICE, alert: { ...ALERT, rule: 'quiet' } });
    channels.notify(NOTICE);
    await until(() => target.received.length === 3, 'three posts');
    expect(target.received.map((r) => `${JSON.parse(r.body).rule} ${r.path}`).sort()).toEqual(['cpu-busy /a', 'cpu-busy /b', 'disk /c']);
  });
});

describe('the message', () => {
  it('lists the top 3 processes by CPU (by memory for a memory alert) and links the board around the alert', () => {
    const process = (pid: number, cpu: number, rss: number) => ({ pid, name: `p${pid}`, user: 'root', container: null, cpu, rss });
    const sample = { t: T, count: 9, top: [process(1, 5, 9e9), process(2, 50, 1024), process(3, 20, 2048), process(4, 30, 0)] };
    expect(topProcesses(sample, false).map((p) => p.name)).toEqual(['p2 (pid 2)', 'p4 (pid 4)', 'p3 (pid 3)']);
    expect(topProcesses(sample, true)).toEqual([
      { name: 'p1 (pid 1)', usage: '5 % CPU, 8.4 GiB' },
      { name: 'p3 (pid 3)', usage: '20 % CPU, 2.0 KiB' },
      { name: 'p2 (pid 2)', usage: '50 % CPU, 1.0 KiB' },
    ]);
    expect(boardLink(new URL('https://board.example/'), ALERT)).toBe(LINK);
    expect(boardLink(null, ALERT)).toBeNull();
  });
});

describe('channels in the rules file', () => {
  const parse = (input: unknown, env: Record<string, string> = {}) => parseAlertSettings(input, 'rules.json', env);
  const error = (input: unknown, env: Record<string, string> = {}) => {
    try {
      parse(input, env);
    } catch (caught) {
      expect(caught).toBeInstanceOf(AlertRulesError);
      return (caught as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('reads secrets from the environment or a file, routes rules, and takes a public URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-secrets-'));
    writeFileSync(join(dir, 'token'), '42:FROMFILE\n');
    const settings = parse(
      {
        channels: [
          { name: 'ops', type: 'slack', url_env: 'SLACK_URL' },
          { name: 'tg', type: 'telegram', token_file: join(dir, 'token'), chat_id: -100 },
        ],
        default_channels: ['ops'],
        public_url: 'https://board.example/',
        rules: [{ name: 'hot', metric: 'temperature', above: 80, channels: ['tg'] }],
      },
      { SLACK_URL: 'https://hooks.slack.com/services/T/B/x' },
    );
    expect(settings.channels).toEqual([
      { name: 'ops', type: 'slack', url: new URL('https://hooks.slack.com/services/T/B/x') },
      { name: 'tg', type: 'telegram', token: '42:FROMFILE', chatId: '-100', apiUrl: new URL('https://api.telegram.org') },
    ]);
    expect(settings.defaultChannels).toEqual(['ops']);
    expect(settings.rules[0]?.channels).toEqual(['tg']);
    expect(settings.publicUrl?.href).toBe('https://board.example/');
  });

  it('refuses a secret written in the file, a missing variable, an unknown channel, and never quotes a secret', () => {
    expect(error({ channels: [{ name: 'ops', type: 'slack', url: 'https://hooks.slack.com/x' }] })).toBe(
      'rules.json: channels[0]: unknown key "url" for a slack channel (expected name, type, url_env, url_file); a secret comes from "url_env" or "url_file"',
    );
    expect(error({ channels: [{ name: 'tg', type: 'telegram', token_env: 'TG_TOKEN', chat_id: 1 }] })).toBe(
      'rules.json: channels[0].token_env: the environment variable TG_TOKEN is not set',
    );
    expect(error({ channels: [], rules: [{ name: 'x', metric: 'cpu', above: 1, channels: ['nowhere'] }] })).toBe(
      'rules.json: rules[0].channels: no channel named "nowhere"',
    );
    expect(error({ channels: [{ name: 'n', type: 'ntfy', url: 'https://me:pw@ntfy.example/alerts' }] })).toBe(
      'rules.json: channels[0].url: a user or password in the URL is not used here; give a token with token_env or token_file',
    );
    const message = error({ channels: [{ name: 'd', type: 'discord', url_env: 'D' }] }, { D: 'not a url SECRET' });
    expect(message).toBe('rules.json: channels[0].url: expected an http(s) URL');
    expect(error({ channels: [{ name: 'm', type: 'email', host: 'smtp.example', from: 'a@b.c', to: 'x', user: 'u' }] })).toBe(
      'rules.json: channels[0]: user and password_env (or password_file) go together',
    );
  });
});

describe('silences', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a silenced rule sends nothing to any channel until the silence ends; other rules still send', async () => {
    // Only Date is faked: the receiver's sockets and the queue's timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T);
    const target = await receiver();
    const notifier = new AlertNotifier({
      settings: { ...DEFAULT_ALERT_SETTINGS, channels: [{ name: 'hook', type: 'webhook', url: new URL(`${target.base}/hook`) }] },
      webhook: null,
      publicUrl: null,
      host: 'web-1',
    });
    cleanups.push(() => notifier.close());
    notifier.silences.set('cpu-busy', T + 60 * 60_000, T);
    notifier.notify(ALERT);
    notifier.notify({ ...ALERT, state: 'resolved' });
    notifier.notify({ ...ALERT, rule: 'memory-high' });
    await until(() => target.received.length === 1, 'the unsilenced rule');
    vi.setSystemTime(T + 60 * 60_000 - 1);
    notifier.notify(ALERT, 'repeat');
    vi.setSystemTime(T + 60 * 60_000);
    notifier.notify(ALERT);
    await until(() => target.received.length === 2, 'the message after the silence');
    expect(target.received.map((r) => `${JSON.parse(r.body).rule} ${JSON.parse(r.body).kind}`)).toEqual([
      'memory-high firing',
      'cpu-busy firing',
    ]);
    expect(notifier.silences.active(T + 60 * 60_000)).toEqual([]);
  });
});
