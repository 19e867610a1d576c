import { describe, expect, it } from 'vitest';
import { shortCommand } from '../../server/collect/command-line.js';
import { identifyCgroup } from '../../server/collect/container-identity.js';
import { parseContainerList } from '../../server/collect/docker-names.js';

const ID = '3f2a9c1e5b7d4f60a8e2c4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5';

describe('a container named from its cgroup path', () => {
  it.each([
    [`/system.slice/docker-${ID}.scope`, 'docker', '3f2a9c1e5b7d'],
    [`/docker/${ID}`, 'docker', '3f2a9c1e5b7d'],
    [`/machine.slice/libpod-${ID}.scope`, 'podman', '3f2a9c1e5b7d'],
    [`/libpod_parent/${ID}`, 'podman', '3f2a9c1e5b7d'],
    [
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6071_8293_a4b5c6d7e8f9.slice/crio-${ID}.scope`,
      'kubernetes',
      'pod 0a1b2c3d/3f2a9c1e5b7d',
    ],
    [`/kubepods/burstable/pod0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9/${ID}`, 'kubernetes', 'pod 0a1b2c3d/3f2a9c1e5b7d'],
    ['/system.slice/nginx.service', 'systemd', 'nginx.service'],
    ['/user.slice/user-1000.slice/session-4.scope', 'systemd', 'session-4.scope'],
    ['/pulseboard-test-123', 'cgroup', 'pulseboard-test-123'],
  ])('%s is %s %s', (path, kind, name) => {
    expect(identifyCgroup(path)).toMatchObject({ kind, name });
  });

  it('keeps the full engine id, to look the name up in the Docker API', () => {
    expect(identifyCgroup(`/system.slice/docker-${ID}.scope`).containerId).toBe(ID);
    expect(identifyCgroup('/system.slice/nginx.service').containerId).toBeNull();
  });
});

describe('the short command line', () => {
  it.each([
    ['/usr/local/bin/node\0/app/server.js\0--port\x003000\0', 'node', 'node server.js'],
    ['node\0--enable-source-maps\0dist/main.js\0', 'node', 'node main.js'],
    ['/usr/bin/python3\0/srv/app/manage.py\0runserver\0', 'python3', 'python3 manage.py'],
    ['postgres: checkpointer \0\0\0\0', 'postgres', 'postgres: checkpointer'],
    ['nginx: worker process\0', 'nginx', 'nginx: worker process'],
    ['/usr/bin/pulseboard\0agent\0--redis\0redis://x\0', 'pulseboard', 'pulseboard agent'],
    ['/usr/sbin/sshd\0-D\0', 'sshd', 'sshd'],
    ['/usr/lib/chromium/chromium --type=renderer --user-data-dir=/tmp/p-1\0\0', 'chromium', 'chromium'],
    ['', 'kworker/0:1', '[kworker/0:1]'],
    ['evil\x1b[31m\0', 'evil', 'evil?[31m'],
    [`/bin/${'x'.repeat(80)}\0`, 'x', `${'x'.repeat(47)}…`],
  ])('%j is %s', (cmdline, comm, short) => {
    expect(shortCommand(cmdline, comm)).toBe(short);
  });
});

describe('the Docker API container list', () => {
  it('takes names and images, and skips entries that do not fit', () => {
    const names = parseContainerList([
      { Id: ID, Names: ['/web'], Image: 'nginx:1.27' },
      { Id: 'short', Names: ['/bad-id'] },
      { Id: ID.replace('3', '4'), Names: [] },
      null,
      { Id: ID.replace('3', '5'), Names: ['/odd\nname'], Image: 7 },
    ]);
    expect([...names]).toEqual([
      [ID, { name: 'web', image: 'nginx:1.27' }],
      [ID.replace('3', '5'), { name: 'odd?name', image: '' }],
    ]);
  });

  it('refuses an answer that is not a list', () => {
    expect(() => parseContainerList({ message: 'page not found' })).toThrow('not a JSON array');
  });
});
