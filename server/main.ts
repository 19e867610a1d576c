#!/usr/bin/env node
import { type Config, ConfigError, helpText, parseCli } from './config.js';
import { firstLine } from './lib/errors.js';
import { readVersion } from './lib/paths.js';
import { Monitor } from './monitor.js';
import { ListenError, startFleetHub, startServer } from './serve.js';

const SHUTDOWN_GRACE_MS = 1500;

function fail(message: string, code: number): never {
  process.stderr.write(`pulseboard: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'demo') return runDemo(process.argv.slice(3));
  let command: ReturnType<typeof parseCli>;
  try {
    command = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(`${error.message} (see --help)`, 2);
    throw error;
  }
  if (command.kind === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(`${readVersion()}\n`);
    return;
  }
  const { config } = command;
  if (command.kind === 'agent') return runAgent(config);
  if (!isLoopback(config.host) && !config.token) {
    process.stderr.write(
      `pulseboard: warning: listening on ${config.host} without --token exposes host metrics to anyone on the network.\n`,
    );
  }

  // Signal handlers go in before the URL is printed: whoever reads that line may signal at once.
  let running: { close(): Promise<void> } | undefined;
  const shutdown = (signal: string) => {
    process.stdout.write(`pulseboard: ${signal}, closing streams\n`);
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    if (!running) process.exit(0);
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  try {
    if (config.redis) {
      const hub = await startFleetHub(config);
      running = hub;
      process.stdout.write(`pulseboard ${readVersion()} fleet hub on ${config.redis.host}, listening on ${hub.url}\n`);
      return;
    }
    const server = await startServer({ config });
    running = server;
    process.stdout.write(`pulseboard ${server.monitor.version} listening on ${server.url}\n`);
    if (server.proxy) process.stdout.write(`pulseboard: proxying ${server.proxy.url} -> ${config.proxy?.origin} (measured)\n`);
  } catch (error) {
    fail(error instanceof ListenError ? error.message : firstLine(error), 1);
  }
}

/** `pulseboard agent`: samples this host into Redis; serves nothing. */
async function runAgent(config: Config): Promise<void> {
  // Loaded here, not at the top: Redis's client costs every other mode ~90 ms of start-up for nothing.
  const { FleetAgent } = await import('./fleet/agent.js');
  const monitor = await Monitor.create({ config, sampleUnwatched: true });
  const agent = new FleetAgent(monitor, { redis: config.redis as URL, name: config.name, backlog: config.backlog });
  const shutdown = (signal: string) => {
    process.stdout.write(`pulseboard agent: ${signal}, sending what is left\n`);
    monitor.close();
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    void agent.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  agent.start();
  monitor.start();
  process.stdout.write(
    `pulseboard agent ${monitor.version} "${config.name}" sampling every ${config.intervalMs} ms into ${config.redis?.host}\n`,
  );
}

/** `pulseboard demo --days 30 --data-dir <dir>`: synthetic history to look at, test and benchmark with. */
async function runDemo(argv: string[]): Promise<void> {
  const { parseDemoArgs, writeDemo } = await import('./history/demo.js');
  let options: ReturnType<typeof parseDemoArgs>;
  try {
    options = parseDemoArgs(argv);
  } catch (error) {
    fail(`demo: ${firstLine(error)}`, 2);
  }
  const result = await writeDemo(options);
  if (result.error) fail(result.error.replace(/^history: /, 'demo: '), 1);
  process.stdout.write(
    `pulseboard demo: ${options.days} days, ${result.samples} samples written to ${options.dir} (${(result.bytes / 1e6).toFixed(1)} MB)\n`,
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

main().catch((error: unknown) => fail(firstLine(error), 1));
