import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerName } from '../../server/collect/container-identity.js';
import { parseEffectiveUid, parseProcessCgroup, UserNames } from '../../server/collect/process-details.js';
import { procfsProcessesCollector } from '../../server/collect/processes.js';
import type { ProcessesSample } from '../../server/protocol.js';
import { DOCKER_ID, tempDir, writeTree } from '../fixtures/cgroup-trees.js';

const PASSWD =
  'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\npostgres:x:106:113::/var/lib/postgresql:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n';
const status = (uid: number) =>
  `Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t1\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t1000\t1000\t1000\t1000\n`;
const stat = (pid: number, comm: string, ticks: number, rssPages: number) =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 500 0 0 0 ${ticks} 0 0 0 20 0 4 0 ${1000 + pid} 104857600 ${rssPages} 18446744073709551615\n`;

/** One sample of the processes collector over a fixture /proc, users from the fixture passwd. */
async function processesOf(procRoot: string): Promise<ProcessesSample> {
  const passwd = join(tempDir('pulseboard-etc-'), 'passwd');
  writeFileSync(passwd, PASSWD);
  const collector = procfsProcessesCollector(
    5000,
    4096,
    { users: new UserNames(passwd), containerOf: (cgroup) => containerName(cgroup, null) },
    procRoot,
  );
  return (await collector.sample(Date.now())) as ProcessesSample;
}

describe('process details', () => {
  it('reads the effective uid from status', () => {
    expect(parseEffectiveUid('Name:\tsu\nUid:\t1000\t0\t0\t0\n')).toBe(0);
    expect(parseEffectiveUid('garbage')).toBeNull();
  });

  it.each([
    ['v2', '0::/system.slice/nginx.service\n', '/system.slice/nginx.service'],
    ['v2 root', '0::/\n', null],
    ['v1 hybrid', '9:name=systemd:/\n4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n', '/docker/abc'],
    ['v1, cpuacct only', '2:cpu,cpuacct:/docker/abc\n0::/\n', '/docker/abc'],
    ['v1 root', '4:memory:/\n2:cpu,cpuacct:/\n0::/\n', null],
  ])('reads the cgroup of a process (%s)', (_, text, path) => {
    expect(parseProcessCgroup(text)).toBe(path);
  });

  it('names users from the passwd file, and shows a uid it does not know as the number', () => {
    const passwd = join(tempDir('pulseboard-etc-'), 'passwd');
    writeFileSync(passwd, PASSWD);
    const users = new UserNames(passwd);
    expect([users.nameOf(0), users.nameOf(106), users.nameOf(4321)]).toEqual(['root', 'postgres', '4321']);
    expect(new UserNames('/nonexistent/passwd').nameOf(0)).toBe('0');
  });
});

describe('processes from a /proc tree (--procfs)', () => {
  it('lists the short command line, the user and the container of each listed process', async () => {
    const procRoot = tempDir('pulseboard-proc-');
    writeTree(procRoot, {
      '4242/stat': stat(4242, 'node', 900, 25_600),
      '4242/cmdline': '/usr/local/bin/node\0/app/server.js\0--port\x003000\0',
      '4242/status': status(1000),
      '4242/cgroup': `0::/system.slice/docker-${DOCKER_ID}.scope\n`,
      '900/stat': stat(900, 'postgres', 100, 12_800),
      '900/cmdline': 'postgres: checkpointer \0\0\0',
      '900/status': status(106),
      '900/cgroup': '0::/system.slice/postgresql@15-main.service\n',
      '2/stat': stat(2, 'kthreadd', 0, 0),
      '2/cmdline': '',
      '2/status': status(0),
      '2/cgroup': '0::/\n',
    });
    const sample = await processesOf(procRoot);
    expect(sample.count).toBe(3);
    expect(sample.top).toEqual(
      expect.arrayContaining([
        { pid: 4242, name: 'node server.js', user: 'app', container: DOCKER_ID.slice(0, 12), cpu: 0, rss: 25_600 * 4096 },
        { pid: 900, name: 'postgres: checkpointer', user: 'postgres', container: 'postgresql@15-main.service', cpu: 0, rss: 12_800 * 4096 },
        { pid: 2, name: '[kthreadd]', user: 'root', container: null, cpu: 0, rss: 0 },
      ]),
    );
  });

  it('reads a command line longer than the shared read buffer whole, and the next shorter file without its leftovers', async () => {
    const procRoot = tempDir('pulseboard-proc-');
    const classpath = 'x'.repeat(10_000);
    writeTree(procRoot, {
      '77/stat': stat(77, 'java', 500, 9000),
      '77/cmdline': `/usr/bin/java\0-cp\0${classpath}\0/opt/app/run.sh\0`,
      '77/status': status(1000),
      '77/cgroup': '0::/\n',
      '78/stat': stat(78, 'sh', 400, 100),
      '78/cmdline': '/bin/sh\0',
      '78/status': status(0),
      '78/cgroup': '0::/\n',
    });
    const sample = await processesOf(procRoot);
    expect(sample.top.map(({ pid, name, user }) => ({ pid, name, user }))).toEqual(
      expect.arrayContaining([
        { pid: 77, name: 'java run.sh', user: 'app' },
        { pid: 78, name: 'sh', user: 'root' },
      ]),
    );
  });
});
