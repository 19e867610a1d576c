import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Config, ConfigError, defaultConfig, helpText, parseCli } from '../../server/config.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => {
  const command = parseCli(argv, env);
  if (command.kind !== 'run') throw new Error(`expected run, got ${command.kind}`);
  return command.config;
};

describe('--backfill', () => {
  it('is 5 minutes by default', () => {
    expect(run([]).backfillMs).toBe(300_000);
  });

  it('is clamped to --history: a backfill cannot send more than the server keeps', () => {
    expect(run(['--history', '10m', '--backfill', '1h']).backfillMs).toBe(600_000);
    expect(run(['--history', '2s', '--interval', '1s']).backfillMs).toBe(2000);
  });

  it('is kept when it fits in the history, up to all of it', () => {
    expect(run(['--history', '1h', '--backfill', '90s']).backfillMs).toBe(90_000);
    expect(run(['--history', '10m', '--backfill', '10m']).backfillMs).toBe(600_000);
    expect(run(['--backfill', '0']).backfillMs).toBe(0);
  });
});

describe('--portable', () => {
  it.each([
    [[], {}, false],
    [['--portable'], {}, true],
    [[], { PULSEBOARD_PORTABLE: '1' }, true],
    [[], { PULSEBOARD_PORTABLE: 'TRUE' }, true],
    [[], { PULSEBOARD_PORTABLE: 'yes' }, true],
    [[], { PULSEBOARD_PORTABLE: '0' }, false],
    [[], { PULSEBOARD_PORTABLE: 'false' }, false],
    [[], { PULSEBOARD_PORTABLE: 'No' }, false],
    [[], { PULSEBOARD_PORTABLE: '' }, false],
  ] as [string[], NodeJS.ProcessEnv, boolean][])('%j with %j is %s', (argv, env, portable) => {
    expect(run(argv, env).portable).toBe(portable);
  });

  it('refuses another value in the environment with one line', () => {
    expect(() => run([], { PULSEBOARD_PORTABLE: 'maybe' })).toThrow('PULSEBOARD_PORTABLE "maybe": expected true or false');
    expect(() => run([], { PULSEBOARD_PORTABLE: 'yes please' })).toThrow(/expected true or false/);
    expect(() => run([], { PULSEBOARD_PORTABLE: 'not yes' })).toThrow('PULSEBOARD_PORTABLE "not yes": expected true or false');
  });
});

const refusal = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    parseCli(argv, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(error.message).not.toContain('\n');
    return error.message;
  }
  throw new Error(`accepted ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
};

describe('every flag and its variable', () => {
  // flag, a value, its env variable, the config key, what the value becomes
  const FLAGS: [string, string, string, keyof Config, unknown][] = [
    ['port', '8080', 'PORT', 'port', 8080],
    ['host', '::1', 'HOST', 'host', '::1'],
    ['interval', '250ms', 'PULSEBOARD_INTERVAL', 'intervalMs', 250],
    ['history', '2h', 'PULSEBOARD_HISTORY', 'historyMs', 7_200_000],
    ['backfill', '90s', 'PULSEBOARD_BACKFILL', 'backfillMs', 90_000],
    ['heartbeat', '20s', 'PULSEBOARD_HEARTBEAT', 'heartbeatMs', 20_000],
    ['retry', '3s', 'PULSEBOARD_RETRY', 'retryMs', 3000],
    ['fs-interval', '1m', 'PULSEBOARD_FS_INTERVAL', 'filesystemIntervalMs', 60_000],
    ['collector-timeout', '2s', 'PULSEBOARD_COLLECTOR_TIMEOUT', 'collectorTimeoutMs', 2000],
    ['exclude-interfaces', '^eth9$', 'PULSEBOARD_EXCLUDE_INTERFACES', 'excludeInterfaces', /^eth9$/],
    ['exclude-fs-types', '^zfs$', 'PULSEBOARD_EXCLUDE_FS_TYPES', 'excludeFsTypes', /^zfs$/],
    ['max-items', '8', 'PULSEBOARD_MAX_ITEMS', 'maxItems', 8],
    ['max-client-buffer', '65536', 'PULSEBOARD_MAX_CLIENT_BUFFER', 'maxClientBufferBytes', 65_536],
    ['proxy', 'http://127.0.0.1:9000', 'PULSEBOARD_PROXY', 'proxy', new URL('http://127.0.0.1:9000')],
    ['proxy-port', '9001', 'PULSEBOARD_PROXY_PORT', 'proxyPort', 9001],
    ['token', 'a-token-of-twenty-chars', 'PULSEBOARD_TOKEN', 'token', 'a-token-of-twenty-chars'],
    ['cors-origin', 'https://ops.example.com', 'PULSEBOARD_CORS_ORIGIN', 'corsOrigins', ['https://ops.example.com']],
    ['max-streams', '500', 'PULSEBOARD_MAX_STREAMS', 'maxStreams', 500],
    ['max-streams-per-client', '5', 'PULSEBOARD_MAX_STREAMS_PER_CLIENT', 'maxStreamsPerClient', 5],
    ['alert-webhook', 'https://hooks.example.com/x', 'PULSEBOARD_ALERT_WEBHOOK', 'alertWebhook', new URL('https://hooks.example.com/x')],
    ['redis', 'redis://10.0.0.5:6379', 'PULSEBOARD_REDIS', 'redis', new URL('redis://10.0.0.5:6379')],
  ];

  it.each(FLAGS)('--%s %s, or the variable, sets it; the flag wins over the variable', (flag, value, env, key, expected) => {
    expect(run([`--${flag}`, value])[key]).toEqual(expected);
    expect(run([], { [env]: value })[key]).toEqual(expected);
    const other = run([], {})[key];
    expect(run([`--${flag}`, value], { [env]: 'not-a-valid-value of anything' })[key]).toEqual(expected);
    expect(other).not.toEqual(expected);
  });

  it('reads the agent flags from the variables too', () => {
    const command = parseCli(['agent'], { PULSEBOARD_REDIS: 'redis://r:6379', PULSEBOARD_NAME: 'web-9', PULSEBOARD_BACKLOG: '200' });
    expect(command.kind).toBe('agent');
    if (command.kind === 'agent') expect(command.config).toMatchObject({ name: 'web-9', backlog: 200 });
  });

  it('has the documented defaults', () => {
    expect(run([])).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      intervalMs: 1000,
      historyMs: 3_600_000,
      backfillMs: 300_000,
      heartbeatMs: 15_000,
      retryMs: 2000,
      filesystemIntervalMs: 30_000,
      collectorTimeoutMs: 5000,
      excludeInterfaces: null,
      excludeFsTypes: null,
      maxItems: 16,
      maxClientBufferBytes: 1_048_576,
      portable: false,
      proxy: null,
      proxyPort: 8081,
      tlsCert: null,
      tlsKey: null,
      token: null,
      corsOrigins: [],
      maxStreams: 10_000,
      maxStreamsPerClient: 64,
      alertRulesFile: null,
      alertWebhook: null,
      redis: null,
      backlog: 100_000,
    });
  });

  it('lets a library user override any of them', () => {
    expect(defaultConfig({ port: 0, intervalMs: 50 })).toMatchObject({ port: 0, intervalMs: 50, historyMs: 3_600_000 });
  });
});

describe('value checks', () => {
  it.each([
    [['--interval', '10ms'], 'intervalMs', 10],
    [['--interval', '1h', '--history', '1h'], 'intervalMs', 3_600_000],
    [['--history', '1s', '--interval', '1s'], 'historyMs', 1000],
    [['--history', '7d'], 'historyMs', 7 * 86_400_000],
    [['--backfill', '1d', '--history', '1d'], 'backfillMs', 86_400_000],
    [['--heartbeat', '100ms'], 'heartbeatMs', 100],
    [['--heartbeat', '5m'], 'heartbeatMs', 300_000],
    [['--retry', '100ms'], 'retryMs', 100],
    [['--retry', '5m'], 'retryMs', 300_000],
    [['--fs-interval', '10ms'], 'filesystemIntervalMs', 10],
    [['--fs-interval', '1h'], 'filesystemIntervalMs', 3_600_000],
    [['--collector-timeout', '10ms'], 'collectorTimeoutMs', 10],
    [['--collector-timeout', '10m'], 'collectorTimeoutMs', 600_000],
    [['--max-items', '1'], 'maxItems', 1],
    [['--max-items', '1000'], 'maxItems', 1000],
    [['--max-client-buffer', '4096'], 'maxClientBufferBytes', 4096],
    [['--max-client-buffer', String(2 ** 30)], 'maxClientBufferBytes', 2 ** 30],
    [['--max-streams', '1'], 'maxStreams', 1],
    [['--max-streams', '1000000'], 'maxStreams', 1_000_000],
    [['--max-streams-per-client', '1000000'], 'maxStreamsPerClient', 1_000_000],
    [['--port', '0'], 'port', 0],
    [['--port', '65535'], 'port', 65_535],
  ] as [string[], keyof Config, number][])('takes %j at the edge of its range', (argv, key, value) => {
    expect(run(argv)[key]).toBe(value);
  });

  it.each([
    [['--interval', '2h'], '--interval "2h": must be at most 1h'],
    [['--history', '999'], '--history "999": must be at least 1s'],
    [['--backfill', '2d'], '--backfill "2d": must be at most 1d'],
    [['--heartbeat', '99ms'], '--heartbeat "99ms": must be at least 100ms'],
    [['--heartbeat', '301s'], '--heartbeat "301s": must be at most 5m'],
    [['--retry', '99'], '--retry "99": must be at least 100ms'],
    [['--retry', '6m'], '--retry "6m": must be at most 5m'],
    [['--fs-interval', '9ms'], '--fs-interval "9ms": must be at least 10ms'],
    [['--fs-interval', '61m'], '--fs-interval "61m": must be at most 1h'],
    [['--collector-timeout', '9'], '--collector-timeout "9": must be at least 10ms'],
    [['--collector-timeout', '601s'], '--collector-timeout "601s": must be at most 10m'],
    [['--max-items', '0'], '--max-items "0": must be at least 1'],
    [['--max-items', '1001'], '--max-items "1001": must be at most 1000'],
    [['--max-client-buffer', '4095'], '--max-client-buffer "4095": must be at least 4096'],
    [['--max-client-buffer', '1073741825'], '--max-client-buffer "1073741825": must be at most 1073741824'],
    [['--max-streams', '1000001'], '--max-streams "1000001": must be at most 1000000'],
    [['--max-streams-per-client', '0'], '--max-streams-per-client "0": must be at least 1'],
    [['--max-streams-per-client', '1000001'], '--max-streams-per-client "1000001": must be at most 1000000'],
    [['agent', '--redis', 'redis://r', '--backlog', '10000001'], '--backlog "10000001": must be at most 10000000'],
    [['--port', '65536'], '--port "65536": expected a port number from 0 to 65535'],
    [['--port', ''], '--port "": expected a port number from 0 to 65535'],
    [['--port', ' 80'], '--port " 80": expected a port number'],
    [['--port', '80x'], '--port "80x": expected a port number'],
    [['--port', 'x80'], '--port "x80": expected a port number'],
    [['--max-items', '8x'], '--max-items "8x": expected a whole number'],
    [['--max-items', 'x8'], '--max-items "x8": expected a whole number'],
    [['--host', ''], '--host "": expected a host name or IP address'],
    [['--host', 'a_b'], '--host "a_b": expected a host name or IP address'],
    [['--interval', ''], '--interval "": expected a duration such as 500ms, 30s, 15m or 1h'],
    [['--max-items', ''], '--max-items "": expected a whole number'],
    [['--max-client-buffer', '1e6'], '--max-client-buffer "1e6": expected a whole number'],
    [['--redis', 'nota url'], '--redis "nota url": expected a Redis URL such as redis://127.0.0.1:6379'],
    [['--proxy', 'ftp://files.example'], '--proxy "ftp://files.example": expected an http or https URL'],
    [['--proxy', 'nota url'], '--proxy "nota url": expected a URL such as http://127.0.0.1:8080'],
    [['--alert-webhook', 'file:///etc/passwd'], '--alert-webhook "file:///etc/passwd": expected an http or https URL'],
    [['--cors-origin', 'https://a.example/'], '--cors-origin "https://a.example/": "https://a.example/" is not an origin'],
    [['--cors-origin', 'https://a.example:443'], '"https://a.example:443" is not an origin'],
    [['--cors-origin', 'nota url'], '"nota url" is not an origin such as https://ops.example.com'],
    [['--tls-key', '/nonexistent/key.pem'], '--tls-key "/nonexistent/key.pem": cannot read the file (ENOENT)'],
    [['--alert-rules', '/nonexistent/rules.json'], '--alert-rules "/nonexistent/rules.json": cannot read the file (ENOENT)'],
    [['agent', '--redis', 'redis://r', '--name=-web'], '--name "-web": expected 1-63 letters'],
    [
      ['agent', '--redis', 'redis://r', '--name', 'w'.repeat(64)],
      'expected 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit',
    ],
    [['--tls-cert', 'package.json'], '--tls-cert and --tls-key go together'],
    [['--tls-key', 'package.json'], '--tls-cert and --tls-key go together'],
    [['--proxy', 'http://127.0.0.1:9000', '--port', '8081'], "--proxy-port 8081 is the dashboard's --port; choose another"],
    [['--backlog', '500'], '--name and --backlog are for `pulseboard agent`'],
    [['--help-me'], "Unknown option '--help-me'"],
  ])('refuses %j: %s', (argv, message) => {
    expect(refusal(argv)).toContain(message);
  });

  it('names a secret without echoing it, and takes 16 to 256 printable characters', () => {
    expect(refusal(['--token', 'fifteen-chars!!'])).toBe('--token: a token must be 16 to 256 printable characters without spaces');
    expect(refusal([], { PULSEBOARD_TOKEN: 'has a space in it ok' })).toBe(
      'PULSEBOARD_TOKEN: a token must be 16 to 256 printable characters without spaces',
    );
    expect(refusal(['--token', 'x'.repeat(257)])).not.toContain('xxxx');
    expect(run(['--token', 'x'.repeat(16)]).token).toBe('x'.repeat(16));
    expect(run(['--token', '~'.repeat(256)]).token).toBe('~'.repeat(256));
  });

  it('names the environment variable or the default that was bad', () => {
    expect(refusal([], { PULSEBOARD_MAX_ITEMS: 'lots' })).toBe('PULSEBOARD_MAX_ITEMS "lots": expected a whole number');
  });

  it('takes a name of 63 characters, and the hostname without --name', () => {
    const command = parseCli(['agent', '--redis', 'redis://r', '--name', `a${'b'.repeat(62)}`], {});
    expect(command.kind === 'agent' && command.config.name).toBe(`a${'b'.repeat(62)}`);
    const named = parseCli(['agent', '--redis', 'redis://r'], {});
    expect(named.kind === 'agent' && named.config.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/);
  });

  it('keeps an empty origin list empty, and trims the listed ones', () => {
    expect(run(['--cors-origin', ' , ']).corsOrigins).toEqual([]);
    expect(run(['--cors-origin', 'http://a.example:8080 ,https://b.example']).corsOrigins).toEqual([
      'http://a.example:8080',
      'https://b.example',
    ]);
  });

  it('lets the proxy use the dashboard port number when that is 0 (both pick a free one)', () => {
    expect(run(['--proxy', 'http://127.0.0.1:9000', '--port', '0', '--proxy-port', '0'])).toMatchObject({ port: 0, proxyPort: 0 });
    expect(run(['--port', '8081']).proxyPort).toBe(8081); // no proxy: no clash
  });

  it('loads the alert rules file at start, and wraps its errors with the flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ rules: [{ name: 'hot', metric: 'temperature', above: 80 }] }));
    const config = run(['--alert-rules', good]);
    expect(config.alertRulesFile).toBe(good);
    expect(config.alerts.rules).toEqual([{ name: 'hot', metric: 'temperature', above: 80, forMs: 0, severity: 'critical' }]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"rules": 3}');
    expect(refusal(['--alert-rules', bad])).toBe(`--alert-rules ${bad}: rules: expected a list`);
    expect(run([]).alerts.rules.map((rule) => rule.name)).toEqual([
      'cpu-busy',
      'memory-high',
      'filesystem-full',
      'event-loop-lag',
      'request-errors',
      'container-memory-limit',
    ]);
  });

  it('answers -h and --version without reading anything else', () => {
    expect(parseCli(['-h', '--port', 'nope'], {})).toEqual({ kind: 'help' });
    expect(parseCli(['--version'], { PORT: 'nope' })).toEqual({ kind: 'version' });
  });
});

describe('--help', () => {
  // Read inside each test, not when the file is collected: a mutation run changes the code per test.
  it('lists every flag with its value kind, a description and its default, then its variable', () => {
    const lines = helpText().split('\n');
    for (const [flag, kind, env, fallback] of [
      ['port', 'port', 'PORT', '3000'],
      ['interval', 'duration', 'PULSEBOARD_INTERVAL', '1s'],
      ['max-client-buffer', 'bytes', 'PULSEBOARD_MAX_CLIENT_BUFFER', '1048576'],
      ['token', 'secret', 'PULSEBOARD_TOKEN', null],
    ] as const) {
      const at = lines.findIndex((line) => line.startsWith(`  --${flag} <${kind}>`));
      expect(at, flag).toBeGreaterThan(0);
      const line = lines[at] as string;
      expect(line.indexOf(' ', 2 + `--${flag} <${kind}>`.length)).toBe(2 + `--${flag} <${kind}>`.length);
      expect(line.slice(37)).toMatch(/^\S.*\S$/); // the description starts at column 37
      if (fallback) expect(line).toMatch(new RegExp(`\\(default ${fallback}\\)$`));
      else expect(line).not.toContain('(default');
      expect(lines[at + 1]).toBe(`${' '.repeat(37)}env ${env}`);
    }
    expect(lines.find((line) => line.startsWith('  --portable'))).toMatch(/^ {2}--portable {25}sample through systeminformation only/);
  });

  it('describes every option in words', () => {
    const lines = helpText().split('\n');
    const described = lines.filter((line) => /^ {2}--/.test(line));
    expect(described.length).toBeGreaterThan(28);
    for (const line of described) expect(line.slice(37).split(' ').filter(Boolean).length, line).toBeGreaterThanOrEqual(2);
  });

  it('starts with the usage of the three commands and ends with --help and --version', () => {
    const lines = helpText().split('\n');
    expect(lines[3]).toBe('');
    expect(lines[4]).toBe('Live server metrics over Server-Sent Events, with a dashboard at http://HOST:PORT/.');
    expect(lines[6]).toBe('');
    expect(lines[7]).toBe('Options:');
    expect(lines[8]).toMatch(/^ {2}--port <port> /);
    expect(lines[0]).toMatch(/^Usage: pulseboard \[options\] +serve the dashboard/);
    expect(lines[1]).toMatch(/^ {7}pulseboard agent --redis <url> \[options\] +sample this host into Redis/);
    expect(lines[2]).toMatch(/^ {7}pulseboard test-alert --channel <name> \[options\] +send a test message to an alert channel$/);
    expect(helpText()).toContain('Durations take ms, s, m, h or d (a bare number is milliseconds).');
    expect(lines.at(-3)).toBe(`  ${'--help, -h'.padEnd(34)} show this help`);
    expect(lines.at(-2)).toBe(`  ${'--version, -v'.padEnd(34)} print the version`);
    expect(lines.at(-1)).toBe('');
  });
});

describe('the file flags', () => {
  it('take --tls-cert and --tls-key, or their variables, together', () => {
    expect(run(['--tls-cert', 'package.json', '--tls-key', 'README.md'])).toMatchObject({ tlsCert: 'package.json', tlsKey: 'README.md' });
    expect(run([], { PULSEBOARD_TLS_CERT: 'package.json', PULSEBOARD_TLS_KEY: 'README.md' })).toMatchObject({
      tlsCert: 'package.json',
      tlsKey: 'README.md',
    });
  });

  it('take the alert rules file from its variable', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pulseboard-config-')), 'rules.json');
    writeFileSync(path, '{"rules": []}');
    expect(run([], { PULSEBOARD_ALERT_RULES: path })).toMatchObject({ alertRulesFile: path, alerts: { rules: [] } });
  });
});
