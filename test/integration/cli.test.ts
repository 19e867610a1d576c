import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli, spawnServer } from '../helpers/server.js';
import { openSse } from '../helpers/sse-reader.js';

describe('pulseboard CLI', () => {
  it('lists every flag with --help and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--host', '--interval', '--history', '--heartbeat', '--backfill', '--retry'])
      expect(stdout).toContain(flag);
  });

  it.each([
    [['--port', 'abc'], /^pulseboard: --port "abc": expected a port number/],
    [['--interval', '0'], /^pulseboard: --interval "0": must be at least 10ms/],
    [['--frobnicate'], /^pulseboard: Unknown option '--frobnicate'/],
  ])('exits 2 with one clear line for %j', async (args, message) => {
    const { code, stderr, stdout } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stdout).toBe('');
  });

  it('exits 2 for a bad environment value, naming the variable', async () => {
    const { code, stderr } = await runCli([], { PORT: 'eighty' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^pulseboard: PORT "eighty"/);
  });

  it('exits 1 with one line when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runCli(['--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(`pulseboard: port ${port} on 127.0.0.1 is already in use (choose another with --port)`);
    } finally {
      blocker.close();
    }
  });

  // How long start-up and shutdown take is measured by `npm run bench` (lifecycle rows), not asserted here.
  it('serves events after start, and on SIGTERM ends open streams and exits 0', async () => {
    const server = await spawnServer(['--port', '0', '--interval', '200ms']);
    const stream = await openSse(`${server.url}api/events?topics=cpu`);
    await stream.until((frames) => frames.some((f) => f.event === 'cpu'));
    const { code } = await server.stop('SIGTERM');
    await stream.closed;
    expect(code).toBe(0);
    expect(server.output()).toContain('pulseboard: SIGTERM, closing streams');
  });

  it('exits 0 on SIGINT too', async () => {
    const server = await spawnServer(['--port', '0']);
    const { code } = await server.stop('SIGINT');
    expect(code).toBe(0);
    expect(server.output()).toContain('pulseboard: SIGINT, closing streams');
  });
});

describe('the warning for a dashboard exposed without a token', () => {
  const WARNING = 'without --token exposes host metrics to anyone on the network';

  it('is printed for a host that is not loopback, before the server binds', async () => {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: the bind fails, so the test exposes nothing.
    const { code, stderr } = await runCli(['--host', '192.0.2.1', '--port', '0']);
    expect(stderr.split('\n')[0]).toBe(`pulseboard: warning: listening on 192.0.2.1 ${WARNING}.`);
    expect(code).toBe(1);
  });

  it('is not printed when a token is set', async () => {
    const { stderr } = await runCli(['--host', '192.0.2.1', '--port', '0', '--token', 'a-token-of-twenty-chars']);
    expect(stderr).not.toContain('warning');
    expect(stderr).toContain('cannot bind to 192.0.2.1');
  });

  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1'])('is not printed for the loopback host %s', async (host) => {
    const server = await spawnServer(['--host', host, '--port', '0']);
    await server.stop();
    expect(server.output()).not.toContain(WARNING);
  });
});
