import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../server/config.js';
import { ROOT } from '../helpers/server.js';

const UNIT = join(ROOT, 'deploy', 'pulseboard.service');
const text = readFileSync(UNIT, 'utf8');
const directives = new Map(
  text
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
);

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const missing = analyze.error ? `systemd-analyze is not installed (${(analyze.error as NodeJS.ErrnoException).code})` : null;
if (missing) console.log(`systemd-unit.test.ts: verify skipped: ${missing}; apt-get install -y systemd provides it`);

describe('deploy/pulseboard.service', () => {
  it.skipIf(missing !== null)('passes systemd-analyze verify without a warning', () => {
    const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
  });

  it('runs as a dynamic user, read-only but for its state directory, without new privileges', () => {
    expect(directives.get('DynamicUser')).toBe('yes');
    expect(directives.get('ProtectSystem')).toBe('strict');
    expect(directives.get('StateDirectory')).toBe('pulseboard');
    expect(directives.get('WorkingDirectory')).toBe('%S/pulseboard');
    expect(directives.get('ReadOnlyPaths')).toBe('/proc /sys');
    expect(directives.get('NoNewPrivileges')).toBe('yes');
    expect(directives.has('MemoryDenyWriteExecute')).toBe(false); // V8's JIT needs it off
    expect(directives.has('ProtectProc')).toBe(false); // the process table needs every /proc/<pid>
  });

  it('starts the built server with flags the CLI accepts', () => {
    const [node, script, ...args] = (directives.get('ExecStart') ?? '').split(' ');
    expect(node).toBe('/usr/bin/node');
    expect(script).toBe('/opt/pulseboard/dist/server/main.js');
    expect(existsSync(join(ROOT, 'dist', 'server', 'main.js'))).toBe(true);
    expect(parseCli(args, {})).toMatchObject({ kind: 'run', config: { host: '127.0.0.1', port: 3000 } });
  });
});
