import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, defaultConfig } from '../../server/config.js';
import type { MonitorOptions } from '../../server/monitor.js';
import { type RunningServer, type ServeOptions, startServer } from '../../server/serve.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'server', 'main.js');

/** Fast settings so tests see many events quickly. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return defaultConfig({ port: 0, intervalMs: 100, heartbeatMs: 250, retryMs: 200, filesystemIntervalMs: 500, ...overrides });
}

/** A real server on an ephemeral port, in this process. */
export function startTestServer(
  overrides: Partial<Config> = {},
  options: Omit<MonitorOptions, 'config'> & ServeOptions & { webDir?: string | null } = {},
): Promise<RunningServer> {
  return startServer({ ...options, config: testConfig(overrides) });
}

export interface ServerProcess extends CliProcess {
  url: string;
  port: number;
}

export interface CliProcess {
  child: ChildProcess;
  output: () => string;
  /** Sends the signal and resolves with the exit code once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null }>;
}

/** The built CLI (`dist/server/main.js`) as a child process; resolves once it prints its URL. */
export async function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}, spawnOptions: SpawnOptions = {}): Promise<ServerProcess> {
  const { process: cli, match } = await spawnCli(args, env, /listening on (https?:\/\/[^\s]+)/, spawnOptions);
  const url = match[1] as string;
  return { ...cli, url, port: Number(new URL(url).port) };
}

/** `pulseboard agent ...`; resolves once it says it is sampling. */
export async function spawnAgent(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  return (await spawnCli(['agent', ...args], env, /sampling every/)).process;
}

/** Run as another user (uid/gid), or under a wrapper command such as `prlimit --fsize=...`. */
export interface SpawnOptions {
  uid?: number;
  gid?: number;
  prefix?: string[];
}

/** Spawned servers keep history in memory unless a test gives them a --data-dir: none share ./data. */
function testEnv(): NodeJS.ProcessEnv {
  return { PULSEBOARD_DATA_DIR: 'none', ...process.env };
}

function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  { prefix = [], ...ids }: SpawnOptions = {},
): Promise<{ process: CliProcess; match: RegExpExecArray }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const [command, ...commandArgs] = [...prefix, process.execPath, MAIN, ...args] as [string, ...string[]];
  const child = spawn(command, commandArgs, { env: { ...testEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: not ready in 15 s:\n${output}`)), 15_000);
    const onData = () => {
      const match = ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve({
        match,
        process: {
          child,
          output: () => output,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal);
            return { code: await exited };
          },
        },
      });
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')}: exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** Runs the CLI to completion (for --help and start-up errors). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...testEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
