import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sampler } from '../../server/collect/sampler.js';
import { ConfigError, parseCli } from '../../server/config.js';
import type { CollectorHealth } from '../../server/protocol.js';
import { AccessLogSource } from '../../server/requests/access-log.js';
import { POSITIONS_FILE } from '../../server/requests/access-log-positions.js';
import { RequestStats } from '../../server/requests/stats.js';
import { sourceText } from '../../web/panels/requests.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pulseboard-access-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const nginxLine = (path: string, status: number, seconds: string) =>
  `127.0.0.1 - - [26/Nov/2026:04:40:00 +0000] "GET ${path} HTTP/1.1" ${status} 10 "-" "curl/8.0.1" ${seconds}\n`;
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'access-logs', name), 'utf8');

function source(files: string[], dataDir: string | null = dir) {
  const stats = new RequestStats({ source: 'access-log' });
  return new AccessLogSource({ files, dataDir }, stats);
}

describe('access logs as the requests source', () => {
  it('counts every line of each log into one requests sample, which names the logs', () => {
    const nginx = join(dir, 'nginx.log');
    const caddy = join(dir, 'caddy.log');
    const apache = join(dir, 'apache.log');
    for (const path of [nginx, caddy, apache]) writeFileSync(path, '');
    const logs = source([nginx, caddy, apache]);
    logs.sample(1000);
    appendFileSync(nginx, nginxLine('/users/1', 200, '0.010') + nginxLine('/users/2', 404, '0.020'));
    appendFileSync(caddy, fixture('caddy.log'));
    appendFileSync(apache, fixture('apache.log'));
    const sample = logs.sample(2000);
    expect(sample.source).toBe('access-log');
    expect(sample.logs).toEqual([nginx, caddy, apache]);
    expect(sample.count).toBe(10);
    expect(sample.status).toEqual({ '1xx': 0, '2xx': 3, '3xx': 1, '4xx': 3, '5xx': 2, aborted: 1 });
    expect(sample.unparsed).toBe(0);
    expect(sample.routes.find((route) => route.route === 'GET /users/:id')?.count).toBe(4);
    logs.close();
  });

  it('counts garbage lines and shows one as a health warning; reading goes on', async () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, '');
    const logs = source([path]);
    const healthChanges: CollectorHealth[][] = [];
    const sampler = new Sampler([logs.collector(1000)], {
      timeoutMs: 1000,
      publish: () => {},
      onHealthChange: (h) => healthChanges.push(h),
    });
    sampler.start();
    await sampler.sampleNow('requests');
    appendFileSync(path, fixture('garbage.log') + nginxLine('/ok', 200, '0.001'));
    await sampler.sampleNow('requests');
    const warning = sampler.health()[0]?.warning;
    expect(warning).toBe(`lines of ${path} that are not access-log lines (no quoted request line), e.g. "this is not an access log line"`);
    expect(healthChanges).toHaveLength(1);
    appendFileSync(path, 'more garbage\n');
    await sampler.sampleNow('requests');
    expect(healthChanges).toHaveLength(1); // the same warning: no new health event per tick
    sampler.stop();
  });

  it('says a log that cannot be read in the warning', () => {
    const path = join(dir, 'secret.log');
    writeFileSync(path, '', { mode: 0o000 });
    const logs = source([path]);
    logs.sample(1000);
    if (process.getuid?.() === 0)
      expect(logs.warning()).toBeUndefined(); // root reads any file
    else expect(logs.warning()).toBe(`cannot read ${path} (EACCES)`);
    logs.close();
  });

  it('keeps each log position in the data directory: a restart counts no line twice and loses none', () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, nginxLine('/before-start', 200, '0.001'));
    const first = source([path]);
    expect(first.sample(1000).count).toBe(0); // a log already there is history, not traffic of now
    appendFileSync(path, nginxLine('/a', 200, '0.001').repeat(3));
    expect(first.sample(2000).count).toBe(3);
    first.close();
    appendFileSync(path, nginxLine('/b', 200, '0.001').repeat(2));
    const second = source([path]);
    expect(second.sample(3000).count).toBe(2);
    second.close();
    writeFileSync(join(dir, POSITIONS_FILE), '{"not": "positions"'); // damaged: read from the end, no crash
    appendFileSync(path, nginxLine('/c', 200, '0.001'));
    const third = source([path]);
    expect(third.sample(4000).count).toBe(0);
    third.close();
  });
});

describe('--access-log', () => {
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const command = parseCli(argv, env);
    if (command.kind !== 'run') throw new Error(command.kind);
    return command.config;
  };

  it('is repeatable, and PULSEBOARD_ACCESS_LOG takes paths separated by ":"', () => {
    expect(run([]).accessLogs).toEqual([]);
    expect(run(['--access-log', '/var/log/nginx/access.log', '--access-log', '/var/log/caddy.log']).accessLogs).toEqual([
      '/var/log/nginx/access.log',
      '/var/log/caddy.log',
    ]);
    expect(run([], { PULSEBOARD_ACCESS_LOG: '/a.log:/b.log' }).accessLogs).toEqual(['/a.log', '/b.log']);
  });

  it('refuses a directory, an empty path and --proxy alongside, with one line', () => {
    expect(() => run(['--access-log', dir])).toThrow(new ConfigError(`--access-log "${dir}": ${dir} is a directory, not a log file`));
    expect(() => run([], { PULSEBOARD_ACCESS_LOG: '/a.log::/b.log' })).toThrow(ConfigError);
    expect(() => run(['--access-log', '/a.log', '--proxy', 'http://127.0.0.1:8080'])).toThrow(
      '--access-log and --proxy are two sources of the same statistics; choose one',
    );
  });
});

describe('the requests panel', () => {
  it('says which source feeds it, naming the access logs', () => {
    expect(sourceText({ source: 'access-log', logs: ['/var/log/nginx/access.log'] })).toBe(
      'measuring the access log /var/log/nginx/access.log',
    );
    expect(sourceText({ source: 'access-log', logs: ['/a.log', '/b.log'] })).toBe('measuring the access logs /a.log, /b.log');
    expect(sourceText({ source: 'proxy' })).toBe('measuring traffic through the reverse proxy');
  });
});
