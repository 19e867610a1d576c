import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, parseCli } from '../../server/config.js';
import { parseDuration } from '../../server/lib/duration.js';
import { growthOver8x, LINEAR_GROWTH_BOUND } from '../helpers/linear.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const command = parseCli(argv, env);
  if (command.kind !== 'run') throw new Error(`expected run, got ${command.kind}`);
  return command.config;
};

describe('config parsing', () => {
  it('has safe defaults: loopback, port 3000, 1 s interval, 1 h history', () => {
    const config = run([]);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, intervalMs: 1000, historyMs: 3_600_000, heartbeatMs: 15_000 });
  });

  it('names containers through the usual Docker socket unless told another, or none', () => {
    expect(run([]).dockerSocket).toBe('/var/run/docker.sock');
    expect(run(['--docker-socket', '/run/podman/podman.sock']).dockerSocket).toBe('/run/podman/podman.sock');
    expect(run([], { PULSEBOARD_DOCKER_SOCKET: '' }).dockerSocket).toBeNull();
  });

  it("takes the host's /proc and /sys from --procfs and --sysfs, without a trailing slash", () => {
    expect(run([])).toMatchObject({ procfs: null, sysfs: null });
    expect(run(['--procfs', '/proc/', '--sysfs', '/sys'])).toMatchObject({ procfs: '/proc', sysfs: '/sys' });
    expect(run([], { PULSEBOARD_PROCFS: '/proc' }).procfs).toBe('/proc');
  });

  it('reads flags, and flags win over the environment', () => {
    expect(run(['--port', '8080'], { PORT: '9090' }).port).toBe(8080);
    expect(run([], { PORT: '9090', HOST: '0.0.0.0', PULSEBOARD_INTERVAL: '250ms' })).toMatchObject({
      port: 9090,
      host: '0.0.0.0',
      intervalMs: 250,
    });
    expect(run(['--history=15m', '--interval', '2s'])).toMatchObject({ historyMs: 900_000, intervalMs: 2000 });
  });

  it.each([
    [['--port', 'abc'], /--port "abc": expected a port number/],
    [['--port', '70000'], /--port "70000"/],
    [['--port', '-1'], /--port/],
    [['--interval', 'fast'], /--interval "fast": expected a duration/],
    [['--interval', '1ms'], /--interval "1ms": must be at least 10ms/],
    [['--history', '10d'], /must be at most 7d/],
    [['--interval', '2s', '--history', '1s'], /--history must be at least one --interval/],
    [['--exclude-interfaces', '('], /not a valid regular expression/],
    [['--max-items', '1.5'], /expected a whole number/],
    [['--host', 'a b'], /expected a host name/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /Unexpected argument 'stray'/],
    [['--port'], /argument missing/],
    [['--cors-origin', 'ops.example.com'], /is not an origin such as https:\/\/ops.example.com/],
    [['--cors-origin', 'https://ops.example.com/dashboard'], /is not an origin/],
    [['--cors-origin', 'https://a.example,ftp://b.example'], /"ftp:\/\/b.example" is not an origin/],
    [['--max-streams', '0'], /--max-streams "0": must be at least 1/],
    [['--max-streams-per-client', 'many'], /expected a whole number/],
    [['--redis', 'http://127.0.0.1:6379'], /--redis "http:\/\/127.0.0.1:6379": expected a Redis URL/],
    [['--redis', 'redis://'], /expected a Redis URL/],
    [['agent'], /agent needs --redis/],
    [['agent', '--redis', 'redis://r:6379', '--name', 'web 1'], /--name "web 1": expected 1-63 letters/],
    [['agent', '--redis', 'redis://r:6379', '--backlog', '5'], /--backlog "5": must be at least 100/],
    [['--name', 'web-1'], /--name and --backlog are for `pulseboard agent`/],
    [['--procfs', '/nonexistent/proc'], /--procfs "\/nonexistent\/proc": cannot read the directory \(ENOENT\)/],
    [['--sysfs', '/etc/hostname'], /--sysfs "\/etc\/hostname": not a directory/],
    [['--docker-socket', 'docker.sock'], /--docker-socket "docker.sock": expected the absolute path of a Unix socket/],
    [['--docker-socket', `/${'s'.repeat(120)}`], /at most 107 bytes/],
    [['--docker-socket', '/run/docker\n.sock'], /expected the absolute path/],
  ])('rejects %j with one clear line', (argv, message) => {
    let error: unknown;
    try {
      parseCli(argv, {});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reads the fleet settings: agent mode, Redis URL, name and backlog', () => {
    const command = parseCli(['agent', '--redis', 'redis://10.0.0.5:6380/2', '--name', 'web-1', '--backlog', '5000'], {});
    expect(command.kind).toBe('agent');
    if (command.kind !== 'agent') return;
    expect(command.config.redis?.href).toBe('redis://10.0.0.5:6380/2');
    expect(command.config).toMatchObject({ name: 'web-1', backlog: 5000 });
    expect(run(['--redis', 'rediss://cache.example:6379']).redis?.protocol).toBe('rediss:');
    expect(run([]).redis).toBeNull();
    // Without --name an agent is named after the machine.
    expect(run([]).name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
  });

  it('reads a list of CORS origins and the stream caps', () => {
    expect(run(['--cors-origin', 'https://a.example, http://b.example:8080'])).toMatchObject({
      corsOrigins: ['https://a.example', 'http://b.example:8080'],
    });
    expect(run([])).toMatchObject({ corsOrigins: [], maxStreams: 10_000, maxStreamsPerClient: 64 });
    expect(run([], { PULSEBOARD_MAX_STREAMS: '500', PULSEBOARD_MAX_STREAMS_PER_CLIENT: '5' })).toMatchObject({
      maxStreams: 500,
      maxStreamsPerClient: 5,
    });
  });

  it('keeps its message on one line whatever the argument holds (the fuzz test found a CR passed through)', () => {
    expect(() => parseCli(['\r'], {})).toThrow("Unexpected argument '\\r'");
    expect(() => parseCli(['--a\u001b[2Jb'], {})).toThrow(/Unknown option '--a\\u001b\[2Jb'/);
  });

  it('reads --trust-proxy and PULSEBOARD_TRUST_PROXY, off by default', () => {
    expect(run([]).trustProxy).toBe(false);
    expect(run(['--trust-proxy']).trustProxy).toBe(true);
    expect(run([], { PULSEBOARD_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(() => parseCli([], { PULSEBOARD_TRUST_PROXY: 'maybe' })).toThrow(/PULSEBOARD_TRUST_PROXY "maybe": expected true or false/);
  });

  it('reads the proxy timeout: 30 s by default, from 100 ms to 1 h', () => {
    expect(run([]).proxyTimeoutMs).toBe(30_000);
    expect(run(['--proxy-timeout', '5s']).proxyTimeoutMs).toBe(5000);
    expect(run([], { PULSEBOARD_PROXY_TIMEOUT: '2m' }).proxyTimeoutMs).toBe(120_000);
    expect(() => parseCli(['--proxy-timeout', 'never'], {})).toThrow(/--proxy-timeout "never": expected a duration/);
    expect(() => parseCli(['--proxy-timeout', '10ms'], {})).toThrow(/must be at least 100ms/);
    expect(() => parseCli([], { PULSEBOARD_PROXY_TIMEOUT: '2h' })).toThrow(/PULSEBOARD_PROXY_TIMEOUT "2h": must be at most 1h/);
  });

  it('names the environment variable when the bad value came from it', () => {
    expect(() => parseCli([], { PULSEBOARD_HEARTBEAT: 'often' })).toThrow(/PULSEBOARD_HEARTBEAT "often"/);
  });

  it('answers --help and --version without starting', () => {
    expect(parseCli(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseCli(['-v'], {})).toEqual({ kind: 'version' });
    for (const flag of ['--port', '--host', '--interval', '--history', '--heartbeat', '--backfill', 'PORT', 'HOST']) {
      expect(helpText()).toContain(flag);
    }
  });
});

describe('durations', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'h', '-1s', '1 hour', '1e3', 'NaN', 'Infinity', '5000000000h'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeNull(),
  );

  it.each([
    ['1', ' ', 'x'],
    ['1', '\t', 's!'],
    ['', '1', 'x'],
    ['1.', '5', ' x'],
    [' ', ' ', '1'],
  ])('takes time linear in the length of %j + %j × n + %j (a backtracking pattern took 0.2 s at n = 16 000)', (head, unit, tail) => {
    const growth = growthOver8x(parseDuration, (n) => `${head}${unit.repeat(n)}${tail}`);
    expect(growth).toBeLessThan(LINEAR_GROWTH_BOUND);
  });

  it('refuses text longer than any duration before parsing it', () => {
    expect(parseDuration(`${'0'.repeat(40)}1s`)).toBeNull();
    expect(parseDuration(`  ${'0'.repeat(20)}15m  `)).toBe(900_000);
  });
});
