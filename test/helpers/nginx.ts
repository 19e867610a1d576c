import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NGINX } from './debian.js';
import { freePort } from './ports.js';

export interface RunningNginx {
  url: string;
  pid: number;
  /** Asks nginx to reopen its log files (SIGUSR1, what `nginx -s reopen` sends), as after a rotation. */
  reopenLogs(): void;
  stop(): Promise<void>;
}

/** The location block the README documents for running behind nginx; the test uses it verbatim. */
export function pulseboardLocation(upstream: string): string {
  return `
    location / {
        proxy_pass ${upstream};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_buffering off;
        proxy_cache off;
        proxy_read_timeout 1h;
        gzip off;
    }`;
}

/** Debian's nginx in the foreground, in a temporary prefix, proxying a free port to `upstreamPort`. */
export function startNginx(upstreamPort: number): Promise<RunningNginx> {
  return startNginxWith({ locations: pulseboardLocation(`http://127.0.0.1:${upstreamPort}`) });
}

export interface NginxSetup {
  /** The server block's locations; `/healthz` must answer 2xx (the start waits for it). */
  locations: string;
  /** More directives of the http block (`log_format`, `access_log`, `upstream`); access logging is off without them. */
  http?: string;
  /** A command nginx runs under (`taskset -c 0`: the bench pins it). */
  prefix?: string[];
}

/** Debian's nginx in the foreground, in a temporary prefix, on a free port, with the given locations. */
export async function startNginxWith(setup: NginxSetup): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-nginx-'));
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    ${setup.http ?? 'access_log off;'}
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    server {
        listen 127.0.0.1:${port};
        ${setup.locations}
    }
}
`,
  );
  const command = [...(setup.prefix ?? []), NGINX.binary, '-p', dir, '-e', join(dir, 'error.log'), '-c', conf];
  const child: ChildProcess = spawn(command[0] as string, command.slice(1), { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`${url}healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = (() => {
        try {
          return readFileSync(join(dir, 'error.log'), 'utf8');
        } catch {
          return '';
        }
      })();
      child.kill('SIGKILL');
      throw new Error(`nginx did not come up on ${url}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    pid: child.pid as number,
    reopenLogs: () => child.kill('SIGUSR1'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
