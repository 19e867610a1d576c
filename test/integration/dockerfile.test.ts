import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/cgroup-trees.js';
import { launchBrowser } from '../helpers/chromium.js';
import { findContainerEngine } from '../helpers/container-engine.js';
import { freePort } from '../helpers/ports.js';
import { ROOT } from '../helpers/server.js';
import { type Frame, openSse } from '../helpers/sse-reader.js';

/**
 * Everywhere: the Dockerfile lints clean (dockerfile-utils, the VS Code Docker extension's validator); its
 * build stage, replayed in a temporary directory with the files its COPY lines name, builds and prunes; the
 * run stage's files, as its COPY lines lay them out, start the server as an unprivileged user; and its
 * HEALTHCHECK command says healthy against that server and unhealthy once it is gone.
 * Where docker (with a daemon) or podman has the base image at hand (see findContainerEngine): the image is
 * built and run with README's run line, and checked from outside.
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
    expect(all[0]).toEqual({ keyword: 'ARG', args: 'NODE_IMAGE=node:20.20-alpine' });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own reference to its ARG
    expect(stageStarts.map((i) => all[i]?.args)).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE}']);
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

describe('the image, built and run as README says', () => {
  const engine = findContainerEngine();
  const why = 'why' in engine ? engine.why : null;
  if (why) console.log(`dockerfile.test.ts: the image itself is not built: ${why}`);
  const { cli, base } = 'why' in engine ? { cli: 'docker', base: '' } : engine;
  const tag = 'localhost/pulseboard:test';
  const name = `pulseboard-test-${process.pid}`;
  const run = (args: string[]) => spawnSync(cli, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  let url = '';
  let containerId = '';

  beforeAll(async () => {
    if (why) return;
    // podman writes OCI images by default, which have no HEALTHCHECK: the docker format keeps it.
    const format = cli === 'podman' ? ['--format', 'docker'] : [];
    const build = run(['build', ...format, '--build-arg', `NODE_IMAGE=${base}`, '-t', tag, ROOT]);
    expect(build.status, `${cli} build\n${build.stdout}\n${build.stderr}`).toBe(0);
    const port = await freePort();
    // README's run line, on a free port (PORT, which the HEALTHCHECK reads too), without the data volume: the
    // image's own /app/data must be writable by `node` (docker gives a new named volume that directory's
    // owner; podman would make a new volume the user's itself and hide a root-owned directory).
    // biome-ignore format: a flag and its value on one line, as in README
    const started = run([
      'run', '-d', '--name', name, '--network', 'host', '--pid', 'host',
      '-v', '/proc:/host/proc:ro', '-v', '/sys:/host/sys:ro',
      '-e', 'HOST=127.0.0.1', '-e', `PORT=${port}`,
      tag, '--procfs', '/host/proc', '--sysfs', '/host/sys',
    ]);
    expect(started.status, `${cli} run\n${started.stderr}`).toBe(0);
    containerId = started.stdout.trim();
    url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`${url}healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${name} did not answer /healthz within 60 s:\n${run(['logs', name]).stderr}`);
  }, 900_000);

  afterAll(() => {
    if (why) return;
    run(['rm', '-f', name]);
  });

  it.skipIf(why !== null)('adds only the production files to its base', () => {
    const sizeOf = (image: string) => Number(run(['image', 'inspect', image, '--format', '{{.Size}}']).stdout);
    const [image, below] = [sizeOf(tag), sizeOf(base)];
    const over = image - below;
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
    console.log(`${tag}: ${mb(image)} = ${base} ${mb(below)} + ours ${mb(over)}`);
    // The build stage's node_modules, with the development dependencies, is over 400 MB.
    expect(over).toBeGreaterThan(1e6);
    expect(over).toBeLessThan(50e6);
  });

  it.skipIf(why !== null)('runs as node, writes its history, and its HEALTHCHECK passes', async () => {
    expect(run(['exec', name, 'id', '-un']).stdout.trim()).toBe('node');
    const health = (await (await fetch(`${url}healthz`)).json()) as { history: { writing: boolean; error: string | null } };
    expect(health.history).toMatchObject({ writing: true, error: null });
    if (cli === 'podman') {
      const check = run(['healthcheck', 'run', name]);
      expect(check.status, check.stdout + check.stderr).toBe(0);
    } else {
      // docker has no "run the check now": run the image's HEALTHCHECK command as docker would.
      const test = JSON.parse(run(['inspect', name, '--format', '{{json .Config.Healthcheck.Test}}']).stdout) as string[];
      expect(test[0]).toBe('CMD');
      expect(run(['exec', name, ...test.slice(1)]).status).toBe(0);
    }
  });

  it.skipIf(why !== null)("streams the host's figures: every core, every process, and itself among the containers", async () => {
    const sse = await openSse(`${url}api/events?topics=cpu,processes,containers`);
    try {
      const has = (topic: string) => (frames: Frame[]) => frames.some((frame) => frame.event === topic);
      await sse.until((frames) => ['cpu', 'processes', 'containers'].every((topic) => has(topic)(frames)), 30_000);
      const first = (topic: string) => sse.events().find((event) => event.event === topic)?.data;
      expect(first('cpu').cores).toHaveLength(cpus().length);
      // The container's own pid namespace holds one process; the host's /proc, all of them.
      const hostProcesses = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).length;
      expect(first('processes').count).toBeGreaterThan(hostProcesses / 2);
      const containers = first('containers') as { count: number; top: { id: string; command: string | null }[] };
      const itself = containers.top.find((container) => container.id.includes(containerId));
      // Listed when it ranks (always where it is one of at most 16); with --pid host its pids are the host's.
      if (containers.count <= 16) expect(itself, JSON.stringify(containers.top.map((c) => c.id))).toBeDefined();
      if (itself) expect(itself.command).toBe('node main.js');
    } finally {
      sse.close();
    }
  });

  it.skipIf(why !== null)('warns at start when it is not given the host pid namespace, and only then', async () => {
    expect(run(['logs', name]).stderr).not.toContain('--pid host');
    const port = await freePort();
    const without = `${name}-own-pids`;
    // biome-ignore format: a flag and its value on one line, as in README
    const started = run([
      'run', '-d', '--name', without, '--network', 'host', '-v', '/proc:/host/proc:ro',
      '-e', 'HOST=127.0.0.1', '-e', `PORT=${port}`, '-e', 'PULSEBOARD_DATA_DIR=none', tag, '--procfs', '/host/proc',
    ]);
    try {
      expect(started.status, started.stderr).toBe(0);
      const deadline = Date.now() + 30_000;
      let logs = '';
      while (!logs.includes('listening on') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const read = run(['logs', without]);
        logs = read.stdout + read.stderr;
      }
      expect(logs).toContain("--procfs /host/proc is another pid namespace's");
    } finally {
      run(['rm', '-f', without]);
    }
  });

  it.skipIf(why !== null)('serves the page, which goes live in Chromium', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(url);
      await page.waitForFunction(
        () => /\d/.test(document.querySelector('[data-topic="cpu"] [data-role="value"]')?.textContent ?? ''),
        undefined,
        {
          timeout: 20_000,
        },
      );
      await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live', undefined, {
        timeout: 20_000,
      });
    } finally {
      await browser.close();
    }
  });
});
