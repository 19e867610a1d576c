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

  it('serves its first event soon after start, and on SIGTERM ends open streams and exits within 2 s', async () => {
    const started = Date.now();
    const server = await spawnServer(['--port', '0', '--interval', '200ms']);
    const stream = await openSse(`${server.url}api/events?topics=cpu`);
    await stream.until((frames) => frames.some((f) => f.event === 'cpu'));
    const firstEventMs = Date.now() - started;
    expect(firstEventMs).toBeLessThan(10_000);
    const { code, ms } = await server.stop('SIGTERM');
    await stream.closed;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
  });

  it('exits within 2 s on SIGINT too', async () => {
    const server = await spawnServer(['--port', '0']);
    const { code, ms } = await server.stop('SIGINT');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
  });
});
