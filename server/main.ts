#!/usr/bin/env node
import { ConfigError, firstLine, helpText, parseCli } from './config.js';
import { readVersion } from './paths.js';
import { ListenError, startServer } from './server.js';

const SHUTDOWN_GRACE_MS = 1500;

function fail(message: string, code: number): never {
  process.stderr.write(`pulseboard: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
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
  if (!isLoopback(config.host) && !config.token) {
    process.stderr.write(
      `pulseboard: warning: listening on ${config.host} without --token exposes host metrics to anyone on the network.\n`,
    );
  }

  // Signal handlers go in before the URL is printed: whoever reads that line may signal at once.
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  const shutdown = (signal: string) => {
    process.stdout.write(`pulseboard: ${signal}, closing streams\n`);
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    if (!running) process.exit(0);
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  try {
    running = await startServer({ config });
  } catch (error) {
    fail(error instanceof ListenError ? error.message : firstLine(error), 1);
  }
  process.stdout.write(`pulseboard ${running.monitor.version} listening on ${running.url}\n`);
  if (running.proxy) process.stdout.write(`pulseboard: proxying ${running.proxy.url} -> ${config.proxy?.origin} (measured)\n`);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

main().catch((error: unknown) => fail(firstLine(error), 1));
