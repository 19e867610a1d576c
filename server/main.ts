#!/usr/bin/env node
import { hostname } from 'node:os';
import { sameProcessNumbering } from './collect/pid-namespace.js';
import { type Config, ConfigError, helpText, parseCli } from './config.js';
import { firstLine } from './lib/errors.js';
import { readVersion } from './lib/paths.js';
import { Monitor } from './monitor.js';
import { ListenError, requestSourceOf, startFleetHub, startServer } from './serve.js';

const SHUTDOWN_GRACE_MS = 1500;

function fail(message: string, code: number): never {
  process.stderr.write(`pulseboard: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'demo') return runDemo(process.argv.slice(3));
  if (process.argv[2] === 'test-alert') return runTestAlert(process.argv.slice(3));
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
  if (config.procfs && sameProcessNumbering(config.procfs) === false) {
    process.stderr.write(
      `pulseboard: warning: --procfs ${config.procfs} is another pid namespace's: containers show without their processes; run the container with --pid host.\n`,
    );
  }
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
    for (const log of config.accessLogs) process.stdout.write(`pulseboard: request statistics from the access log ${log}\n`);
  } catch (error) {
    fail(error instanceof ListenError ? error.message : firstLine(error), 1);
  }
}

/** `pulseboard agent`: samples this host into Redis; serves nothing. */
async function runAgent(config: Config): Promise<void> {
  // Loaded here, not at the top: Redis's client costs every other mode ~90 ms of start-up for nothing.
  const { FleetAgent } = await import('./fleet/agent.js');
  const monitor = await Monitor.create({
    config,
    sampleUnwatched: true,
    ...(config.accessLogs.length > 0 ? requestSourceOf(config) : {}),
  });
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

/** `pulseboard test-alert --channel NAME [--alert-rules FILE ...]`: one test message to that channel. */
async function runTestAlert(argv: string[]): Promise<void> {
  const rest: string[] = [];
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--channel') name = argv[++i];
    else if (arg.startsWith('--channel=')) name = arg.slice('--channel='.length);
    else rest.push(arg);
  }
  if (!name || name.startsWith('--')) fail('test-alert: --channel NAME is required (see --help)', 2);
  let command: ReturnType<typeof parseCli>;
  try {
    command = parseCli(rest, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(`test-alert: ${error.message} (see --help)`, 2);
    throw error;
  }
  if (command.kind !== 'run') fail('test-alert: takes the flags of the server, not `agent`, --help or --version', 2);
  const { config } = command;
  const { FLAG_WEBHOOK } = await import('./alerts/notifier.js');
  const channels = [...(config.alerts.channels ?? [])];
  if (config.alertWebhook) channels.push({ name: FLAG_WEBHOOK, type: 'webhook', url: config.alertWebhook });
  const channel = channels.find((c) => c.name === name);
  if (!channel) {
    const known = channels.map((c) => c.name).join(', ') || 'none (give --alert-rules or --alert-webhook)';
    fail(`test-alert: no channel named ${JSON.stringify(name.slice(0, 64))}; channels: ${known}`, 2);
  }
  const { sendTestMessage } = await import('./alerts/test-send.js');
  const result = await sendTestMessage(channel, hostname(), config.publicUrl ?? config.alerts.publicUrl ?? null);
  if (!result.ok) fail(`test-alert: channel "${channel.name}" (${channel.type}) failed: ${result.reason}`, 1);
  process.stdout.write(`pulseboard test-alert: sent a test message to "${channel.name}" (${channel.type})\n`);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

main().catch((error: unknown) => fail(firstLine(error), 1));
