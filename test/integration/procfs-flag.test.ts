import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotResponse } from '../../server/protocol.js';
import { hostProcTree, hostSysTree, tempDir, writeTree } from '../fixtures/cgroup-trees.js';
import { runCli, type ServerProcess, spawnServer } from '../helpers/server.js';

let server: ServerProcess | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

describe('--procfs and --sysfs', () => {
  it('sample the host whose /proc and /sys they point at (a container with them mounted)', async () => {
    const procfs = tempDir('pulseboard-host-proc-');
    const sysfs = tempDir('pulseboard-host-sys-');
    writeTree(procfs, hostProcTree());
    writeTree(sysfs, hostSysTree());
    server = await spawnServer(['--port', '0', '--interval', '200ms', '--procfs', procfs, '--sysfs', `${sysfs}/`, '--docker-socket', '']);
    let snapshot: SnapshotResponse | null = null;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      snapshot = (await (await fetch(`${server.url}api/snapshot`)).json()) as SnapshotResponse;
      if (snapshot.samples.memory && snapshot.samples.processes && snapshot.samples.containers && snapshot.samples.cpu) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const samples = snapshot?.samples;
    expect(samples?.memory).toMatchObject({ total: 8167848 * 1024, available: 5236484 * 1024, swapTotal: 2097148 * 1024 });
    expect(samples?.cpu?.cores).toHaveLength(4);
    expect(samples?.cpu?.load).toEqual([0.52, 0.41, 0.3]);
    expect(samples?.processes?.count).toBe(2);
    expect(samples?.processes?.top).toContainEqual(
      expect.objectContaining({ pid: 4242, name: 'node server.js', user: 'shop', container: '3f2a9c1e5b7d', rss: 30000 * 4096 }),
    );
    expect(samples?.processes?.top).toContainEqual(
      expect.objectContaining({ pid: 1, name: 'init splash', user: 'root', container: 'init.scope' }),
    );
    expect(samples?.containers?.count).toBe(3);
    expect(samples?.containers?.top.map((c) => c.name).sort()).toEqual(['3f2a9c1e5b7d', 'nginx.service', 'pod 5c6f0b1e/a1b2c3d4e5f6']);
    expect(snapshot?.collectors.find((c) => c.topic === 'containers')?.source).toBe('cgroup v2');
    expect(snapshot?.collectors.map((c) => c.topic)).not.toContain('temperature'); // the fixture host has no sensors
    expect(server.output()).not.toContain('pid namespace'); // a tree without `self` cannot say
  });

  it("warns at start when the given /proc is another pid namespace's (a container without --pid host)", async () => {
    const procfs = tempDir('pulseboard-host-proc-');
    writeTree(procfs, hostProcTree());
    symlinkSync('4242', join(procfs, 'self')); // the kernel's /proc/self: this process as that namespace numbers it
    server = await spawnServer(['--port', '0', '--procfs', procfs, '--docker-socket', '']);
    expect(server.output()).toContain(`pulseboard: warning: --procfs ${procfs} is another pid namespace's`);
    expect(server.output()).toContain('run the container with --pid host');
  });

  it.each([
    [
      ['--procfs', '/nonexistent/proc'],
      /^pulseboard: --procfs "\/nonexistent\/proc": cannot read the directory \(ENOENT\) \(see --help\)$/,
    ],
    [['--sysfs', '/etc/passwd'], /^pulseboard: --sysfs "\/etc\/passwd": not a directory \(see --help\)$/],
  ])('exits 2 with one line for %j', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(message);
  });
});
