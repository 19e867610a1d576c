import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/cgroup-trees.js';
import { freePort } from '../helpers/ports.js';
import { ROOT } from '../helpers/server.js';

/**
 * No Docker daemon runs here, so the image is not built. What can be checked is: the Dockerfile lints clean
 * (dockerfile-utils, the VS Code Docker extension's validator); its build stage, replayed in a temporary
 * directory with the files its COPY lines name, builds and prunes; the run stage's files, as its COPY
 * lines lay them out, start the server as an unprivileged user; and its HEALTHCHECK command says healthy
 * against that server and unhealthy once it is gone.
 */

interface Instruction {
  keyword: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const space = line.indexOf(' ');
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const all = instructions(DOCKERFILE);
const stageStarts = all.flatMap((instruction, i) => (instruction.keyword === 'FROM' ? [i] : []));
const buildStage = all.slice(stageStarts[0], stageStarts[1]);
const runStage = all.slice(stageStarts[1]);
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

describe('Dockerfile', () => {
  it('lints clean, has two stages, runs as a non-root user with a HEALTHCHECK on /healthz', () => {
    expect(validate(DOCKERFILE).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    expect(stageStarts).toHaveLength(2);
    expect(all[stageStarts[0] as number]?.args).toMatch(/^node:20\.20-\S+ AS build$/);
    expect(runStage.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('node');
    expect(runStage.find((i) => i.keyword === 'HEALTHCHECK')?.args).toContain('/healthz');
    expect(runStage.filter((i) => i.keyword === 'COPY').every((i) => i.args.startsWith('--from=build '))).toBe(true);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });

  it('builds as its build stage says, and the run stage starts, answers its HEALTHCHECK, and fails it when down', async () => {
    // The build stage, replayed: its COPY sources from the repo, its RUN lines in the work directory.
    const src = tempDir('pulseboard-docker-build-');
    cleanups.push(() => rmSync(src, { recursive: true, force: true }));
    for (const { keyword, args } of buildStage) {
      if (keyword === 'COPY') {
        const parts = args.split(/\s+/);
        const dest = parts.pop() as string;
        for (const source of parts) {
          expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
          cpSync(join(ROOT, source), dest.endsWith('/') ? join(src, dest, source) : join(src, dest), { recursive: true });
        }
      } else if (keyword === 'RUN') {
        expect(args, 'a build-stage RUN line must stay inside its work directory').not.toMatch(/(^|\s)\//);
        const run = spawnSync('sh', ['-c', args], { cwd: src, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
        expect(run.status, `RUN ${args}\n${run.stderr}`).toBe(0);
      }
    }
    expect(existsSync(join(src, 'node_modules', 'chart.js'))).toBe(false);
    expect(existsSync(join(src, 'node_modules', 'vitest'))).toBe(false); // dev dependencies pruned

    // The run stage's files, laid out as its COPY --from=build lines say.
    const app = tempDir('pulseboard-docker-app-');
    cleanups.push(() => rmSync(app, { recursive: true, force: true }));
    for (const { keyword, args } of runStage) {
      if (keyword !== 'COPY') continue;
      const [, from, to] = args.split(/\s+/) as [string, string, string];
      mkdirSync(join(app, to, '..'), { recursive: true });
      cpSync(join(src, from.replace(/^\/src\/?/, '')), join(app, to), { recursive: true });
    }
    chmodSync(app, 0o755);
    const env: NodeJS.ProcessEnv = {};
    for (const { keyword, args } of runStage) {
      if (keyword !== 'ENV') continue;
      for (const pair of args.split(/\s+/)) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
    }
    const port = await freePort();
    env.PORT = String(port);
    env.HOST = '127.0.0.1'; // the image binds 0.0.0.0; the test keeps to loopback
    const entrypoint = JSON.parse(runStage.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '[]') as string[];
    const asNode = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : {};
    const server = spawn(process.execPath, entrypoint.slice(1), { cwd: app, env: { PATH: process.env.PATH, ...env }, ...asNode });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => server.once('exit', resolve));
    cleanups.push(() => server.kill('SIGKILL'));
    const deadline = Date.now() + 20_000;
    while (!output.includes('listening on') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(output).toContain(`listening on http://127.0.0.1:${port}/`);

    const healthcheck = JSON.parse((runStage.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '').replace(/^.*?CMD\s+/, '')) as string[];
    const check = () =>
      new Promise<number | null>((resolve) => {
        const probe = spawn(process.execPath, healthcheck.slice(1), { env: { PATH: process.env.PATH, ...env } });
        probe.once('exit', resolve);
      });
    expect(await check()).toBe(0);
    server.kill('SIGTERM');
    await exited;
    expect(await check()).toBe(1);
  }, 240_000);
});

describe('docker build', () => {
  const daemon = spawnSync('docker', ['info'], { encoding: 'utf8' });
  const why = daemon.error ? 'no docker CLI' : daemon.status !== 0 ? 'no Docker daemon answers `docker info`' : null;
  if (why) console.log(`dockerfile.test.ts: the image itself is not built: ${why}`);
  it.skipIf(why !== null)(
    'builds the image and prints its size',
    () => {
      execFileSync('docker', ['build', '-t', 'pulseboard:test', ROOT], { stdio: 'inherit' });
      const size = execFileSync('docker', ['image', 'inspect', 'pulseboard:test', '--format', '{{.Size}}'], { encoding: 'utf8' });
      console.log(`pulseboard:test image: ${(Number(size) / 1e6).toFixed(1)} MB`);
      expect(Number(size)).toBeGreaterThan(0);
    },
    600_000,
  );
});
