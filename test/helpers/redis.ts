import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REDIS } from './debian.js';
import { freePort } from './ports.js';

export interface RunningRedis {
  url: string;
  port: number;
  /** A client for checks (lazy: connects on first use). */
  client(): Redis;
  /** Stops the server (SIGTERM: the append-only file is flushed first). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/**
 * Debian's redis-server on a free port, its data in a temporary folder, with the append-only file on:
 * the settings the README recommends, so a restart keeps the streams.
 */
export async function startRedis(): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let client: Redis | null = null;

  const start = async () => {
    child = spawn(
      REDIS.binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
      { stdio: 'ignore' },
    );
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {}); // refused until the server is up: that is what the loop waits for
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await probe.connect().then(
        () => probe.ping().then(() => true),
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    probe.disconnect();
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client() {
      if (!client) {
        client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
        client.on('error', () => {}); // the tests stop Redis on purpose; commands still fail loudly
      }
      return client;
    },
    stop,
    start,
    async destroy() {
      client?.disconnect();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
