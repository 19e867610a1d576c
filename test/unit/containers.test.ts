import { mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MEMORY_STAT_EVERY, PRESSURE_EVERY } from '../../server/collect/cgroup-counters.js';
import { FULL_READ_EVERY } from '../../server/collect/cgroup-layout.js';
import type { Collector } from '../../server/collect/collector.js';
import { topContainers } from '../../server/collect/container-ranking.js';
import { cgroupContainersCollector } from '../../server/collect/containers.js';
import { findInvalidNumber } from '../../server/collect/sampler.js';
import type { ContainerInfo, ContainersSample } from '../../server/protocol.js';
import {
  cgroupV1Tree,
  cgroupV2Tree,
  cpuStatV2,
  DOCKER_ID,
  ioStatV2,
  memoryStatV2,
  netDev,
  POD_PATH,
  pressure,
  procTree,
  tempDir,
  writeTree,
} from '../fixtures/cgroup-trees.js';
import { betweenSamples } from '../helpers/cgroups.js';

const T0 = 1_800_000_000_000;
const opened: Collector<'containers'>[] = [];

afterEach(() => {
  for (const collector of opened.splice(0)) collector.close?.();
});

function fixture(tree: (c: { cpuUsec: number; ioRead: number; ioWrite: number }) => Record<string, string>) {
  const cgroupRoot = tempDir('pulseboard-cgroup-');
  const procRoot = tempDir('pulseboard-proc-');
  writeTree(cgroupRoot, tree({ cpuUsec: 10_000_000, ioRead: 1_000_000, ioWrite: 2_000_000 }));
  writeTree(procRoot, procTree({ rx: 5_000_000, tx: 1_000_000 }));
  const collector = cgroupContainersCollector({ cadenceMs: 5000, cgroupRoot, procRoot, dockerNames: null });
  if (!collector) throw new Error('no cgroup layout found in the fixture');
  opened.push(collector);
  return { cgroupRoot, procRoot, collector };
}

const sampleOf = (collector: Collector<'containers'>, t: number) => collector.sample(t) as ContainersSample;
const byId = (sample: ContainersSample, id: string) => sample.top.find((c) => c.id === id) as ContainerInfo;

describe('containers from cgroup v2 files', () => {
  const docker = `/system.slice/docker-${DOCKER_ID}.scope`;
  /** The i-th sample 5 s apart, with the container at `dir` busy (its `cpu.stat` moved by 1 ms since the last): its info. */
  const busyDockerSample = (collector: Collector<'containers'>, dir: string, i: number): ContainerInfo => {
    writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(10_000_000 + 1000 * (i + 1)));
    return byId(sampleOf(collector, T0 + i * 5000), docker);
  };

  it('reads every field of a container, with rates over the period', () => {
    const { cgroupRoot, procRoot, collector } = fixture(cgroupV2Tree);
    expect(collector.source).toBe('cgroup v2');
    const first = sampleOf(collector, T0);
    expect(byId(first, docker)).toMatchObject({ cpu: null, ioRead: null, netRx: null, memory: 115343360 });

    // 5 s later: 7.5 s of CPU, 5 MB read, 10 MB written, 2.5 MB received, 0.5 MB sent.
    const dir = join(cgroupRoot, docker);
    writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(17_500_000));
    writeFileSync(join(dir, 'io.stat'), ioStatV2(6_000_000, 12_000_000));
    writeFileSync(join(procRoot, '4242/net/dev'), netDev(7_500_000, 1_500_000));
    const sample = sampleOf(collector, T0 + 5000);

    expect(sample.count).toBe(3); // the empty system.slice holds no process: not a container
    expect(sample.closestToLimit).toEqual({ id: docker, name: DOCKER_ID.slice(0, 12), percent: 21.5 }); // the only one with a limit
    expect(findInvalidNumber(sample, true)).toBeNull();
    expect(byId(sample, docker)).toEqual({
      id: docker,
      name: DOCKER_ID.slice(0, 12),
      kind: 'docker',
      image: null,
      command: 'node server.js',
      cpu: 150,
      cpuOfLimit: 75, // of a 2-core quota
      memory: 157286400 - 41943040, // memory.current less inactive_file
      memoryLimit: 536870912,
      ioRead: 1_000_000,
      ioWrite: 2_000_000,
      netRx: 500_000,
      netTx: 100_000,
      pids: 12,
      pressure: { cpu: 1.5, memory: 0.25, io: 3 },
    });
  });

  it('names systemd units and pods from the path; no limit and no own network namespace read as null', () => {
    const { collector } = fixture(cgroupV2Tree);
    sampleOf(collector, T0);
    const sample = sampleOf(collector, T0 + 5000);
    expect(byId(sample, '/system.slice/nginx.service')).toMatchObject({
      name: 'nginx.service',
      kind: 'systemd',
      command: 'nginx: master process /usr/sbin/nginx -g daemon…',
      cpu: 0,
      cpuOfLimit: null,
      memory: 8388608 - 4194304,
      memoryLimit: null,
      ioRead: 0,
      netRx: null, // the host's namespace: its traffic is the host's
      pids: 2,
      pressure: null,
    });
    expect(byId(sample, POD_PATH)).toMatchObject({
      name: `pod 5c6f0b1e/${POD_CONTAINER_SHORT}`,
      kind: 'kubernetes',
      command: 'postgres: checkpointer',
      cpu: null, // no cpu.stat: never a made-up zero
      memory: 1048576,
      ioRead: null,
      pids: 1, // no pids.current: the processes listed
    });
  });

  it('never reports a negative rate when a counter goes back (a container made again at the same path)', () => {
    const { cgroupRoot, procRoot, collector } = fixture(cgroupV2Tree);
    sampleOf(collector, T0);
    const dir = join(cgroupRoot, docker);
    writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(2_500_000));
    writeFileSync(join(dir, 'io.stat'), ioStatV2(500_000, 0));
    writeFileSync(join(procRoot, '4242/net/dev'), netDev(100, 50));
    const sample = sampleOf(collector, T0 + 5000);
    // The new counter is what happened since the reset: the best estimate, never below zero.
    expect(byId(sample, docker)).toMatchObject({ cpu: 50, ioRead: 100_000, ioWrite: 0, netRx: 20, netTx: 10 });
  });

  it('reads a quiet container (no CPU used) again on its full-read turn, and at once when it uses CPU', () => {
    const { cgroupRoot, collector } = fixture(cgroupV2Tree);
    const dir = join(cgroupRoot, docker);
    const nginx = '/system.slice/nginx.service';
    sampleOf(collector, T0);
    writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(10_000_000 + 1_000_000));
    sampleOf(collector, T0 + 5000); // used CPU: read in full
    // Memory and I/O move while CPU stands still: kept as last read until each container's own full-read turn.
    writeFileSync(join(dir, 'memory.current'), '167772160\n');
    writeFileSync(join(dir, 'io.stat'), ioStatV2(1_000_000 + 3_000_000, 2_000_000));
    writeFileSync(join(cgroupRoot, nginx, 'memory.current'), '16777216\n');
    const seen: ContainersSample[] = [];
    for (let i = 1; i <= FULL_READ_EVERY; i++) seen.push(sampleOf(collector, T0 + 5000 + i * 5000));
    const dockerRefresh = seen.findIndex((s) => byId(s, docker).memory === 167772160 - 41943040);
    const nginxRefresh = seen.findIndex((s) => byId(s, nginx).memory === 16777216 - 4194304);
    expect(dockerRefresh).toBeGreaterThanOrEqual(0); // within FULL_READ_EVERY samples
    expect(nginxRefresh).toBeGreaterThanOrEqual(0);
    expect(nginxRefresh).not.toBe(dockerRefresh); // a share of the containers each sample, not all at once
    for (const s of seen.slice(0, dockerRefresh)) {
      expect(byId(s, docker)).toMatchObject({ cpu: 0, memory: 157286400 - 41943040, ioRead: 0 });
    }
    for (const s of seen.slice(0, nginxRefresh)) expect(byId(s, nginx).memory).toBe(8388608 - 4194304);
    // The bytes read while it waited, over the whole time since the previous full read.
    expect(byId(seen[dockerRefresh] as ContainersSample, docker).ioRead).toBe(Math.round(3_000_000 / ((dockerRefresh + 1) * 5)));

    // Using CPU, it is read in full at its next sample, whatever its turn.
    const t = T0 + 5000 + (FULL_READ_EVERY + 1) * 5000;
    writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(10_000_000 + 2_000_000));
    writeFileSync(join(dir, 'memory.current'), '178257920\n');
    expect(byId(sampleOf(collector, t), docker)).toMatchObject({ cpu: 20, memory: 178257920 - 41943040 });
  });

  it('drops a container whose processes are gone and finds a new one', async () => {
    const { cgroupRoot, collector } = fixture(cgroupV2Tree);
    sampleOf(collector, T0);
    writeFileSync(join(cgroupRoot, 'system.slice/nginx.service/cgroup.procs'), '');
    writeFileSync(join(cgroupRoot, 'system.slice/nginx.service/pids.current'), '0\n'); // as the kernel counts
    // Exiting takes a process some CPU time, charged to its cgroup: the container is read again at once.
    writeFileSync(join(cgroupRoot, 'system.slice/nginx.service/cpu.stat'), cpuStatV2(1_000_100));
    mkdirSync(join(cgroupRoot, 'system.slice/redis.service'));
    writeFileSync(join(cgroupRoot, 'system.slice/redis.service/cgroup.procs'), '1200\n');
    await betweenSamples();
    const sample = sampleOf(collector, T0 + 5000);
    expect(sample.top.map((c) => c.name).sort()).toEqual(
      [DOCKER_ID.slice(0, 12), `pod 5c6f0b1e/${POD_CONTAINER_SHORT}`, 'redis.service'].sort(),
    );
    expect(byId(sample, '/system.slice/redis.service')).toMatchObject({ command: '?', memory: null, cpu: null });
  });

  it("reads a busy container's processes again when its task count moves, else on its full-read turn", () => {
    const { cgroupRoot, collector } = fixture(cgroupV2Tree);
    const nginx = '/system.slice/nginx.service';
    const dir = join(cgroupRoot, nginx);
    sampleOf(collector, T0);
    // Its first process replaced by another (cron's pid) between samples, the task count as it was.
    writeFileSync(join(dir, 'cgroup.procs'), '700\n801\n');
    const commands: string[] = [];
    for (let i = 1; i <= FULL_READ_EVERY; i++) {
      writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(1_000_000 + i * 1000)); // busy: never quiet
      commands.push(byId(sampleOf(collector, T0 + i * 5000), nginx).command);
    }
    const seenAt = commands.findIndex((command) => command.startsWith('cron'));
    expect(seenAt).toBeGreaterThan(0); // kept at first...
    expect(commands.slice(0, seenAt).every((command) => command.startsWith('nginx: master'))).toBe(true);
    // ...and read on its full-read turn, within FULL_READ_EVERY samples.

    // A task more: read at once.
    writeFileSync(join(dir, 'cgroup.procs'), '800\n801\n802\n');
    writeFileSync(join(dir, 'pids.current'), '3\n');
    writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(2_000_000));
    expect(byId(sampleOf(collector, T0 + (FULL_READ_EVERY + 1) * 5000), nginx)).toMatchObject({
      command: expect.stringMatching(/^nginx: master/),
      pids: 3,
    });

    // Without the pids controller (the pod has no pids.current), its processes are read every sample.
    writeFileSync(join(cgroupRoot, POD_PATH, 'cgroup.procs'), '700\n');
    expect(byId(sampleOf(collector, T0 + (FULL_READ_EVERY + 2) * 5000), POD_PATH).command).toMatch(/^cron/);
  });

  it("keeps a container's net/dev open while its first process stays, and reads the new first process's when it changes", () => {
    const { cgroupRoot, procRoot, collector } = fixture(cgroupV2Tree);
    const dir = join(cgroupRoot, docker);
    /** Descriptors this process holds on the fixture's net/dev files. */
    const netDevFds = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(procRoot);
        } catch {
          return false; // readdirSync's own descriptor, closed by now
        }
      }).length;
    let cpuUsec = 10_000_000;
    const busySample = (i: number) => {
      cpuUsec += 1000;
      writeFileSync(join(dir, 'cpu.stat'), cpuStatV2(cpuUsec));
      return byId(sampleOf(collector, T0 + i * 5000), docker);
    };
    busySample(0);
    expect(netDevFds()).toBe(1);
    writeFileSync(join(procRoot, '4242/net/dev'), netDev(6_000_000, 1_500_000));
    expect(busySample(1)).toMatchObject({ netRx: 200_000, netTx: 100_000 });
    expect(netDevFds()).toBe(1);

    // Its first process exits; another, in the same network namespace, is now the first.
    writeTree(procRoot, {
      '4243/cmdline': '/usr/local/bin/node\0/app/worker.js\0',
      '4243/ns/net': '->net:[4026532301]',
      '4243/net/dev': netDev(7_000_000, 2_000_000),
    });
    writeFileSync(join(dir, 'cgroup.procs'), '4243\n4250\n');
    writeFileSync(join(dir, 'pids.current'), '11\n');
    expect(busySample(2)).toMatchObject({ command: 'node worker.js', netRx: 200_000, netTx: 100_000 });
    expect(netDevFds()).toBe(1); // the old one closed

    collector.close?.();
    expect(netDevFds()).toBe(0);
  });

  it("reads a busy container's inactive page cache again when its usage moves, else every few readings", () => {
    const { cgroupRoot, collector } = fixture(cgroupV2Tree);
    const dir = join(cgroupRoot, docker);
    const busySample = (i: number) => busyDockerSample(collector, dir, i).memory;
    busySample(0);
    // Pages turned active: the inactive cache shrinks, the usage (150 MiB) stays.
    writeFileSync(join(dir, 'memory.stat'), memoryStatV2(20_971_520));
    const seen = [1, 2, 3].map(busySample);
    const seenAt = seen.indexOf(157286400 - 20_971_520);
    expect(seenAt).toBeGreaterThan(0); // kept at first...
    expect(seen.slice(0, seenAt).every((memory) => memory === 157286400 - 41943040)).toBe(true);
    // ...and read within MEMORY_STAT_EVERY readings.
    expect(seenAt).toBeLessThan(MEMORY_STAT_EVERY);

    // The usage moves by more than 1 % (and 1 MiB): read at once.
    writeFileSync(join(dir, 'memory.current'), '8388608\n'); // 8 MiB
    writeFileSync(join(dir, 'memory.stat'), memoryStatV2(1_048_576));
    expect(busySample(4)).toBe(8388608 - 1_048_576);
    // By 6 % but less than 1 MiB (a process started in a small container): kept, the usage fresh.
    writeFileSync(join(dir, 'memory.current'), '8912896\n'); // +512 KiB
    writeFileSync(join(dir, 'memory.stat'), memoryStatV2(2_097_152));
    expect(busySample(5)).toBe(8912896 - 1_048_576);
  });

  it("reads a busy container's pressure every other reading: avg10 is a 10 s average, never older than that", () => {
    const { cgroupRoot, collector } = fixture(cgroupV2Tree);
    const dir = join(cgroupRoot, docker);
    const busySample = (i: number) => busyDockerSample(collector, dir, i).pressure?.cpu;
    busySample(0);
    for (const [i, psi] of [
      [1, 4],
      [3, 7],
    ] as const) {
      writeFileSync(join(dir, 'cpu.pressure'), pressure(psi));
      const seen = Array.from({ length: PRESSURE_EVERY }, (_, k) => busySample(i + k));
      // Read within PRESSURE_EVERY readings, and not at every one: one of them kept the value before.
      expect(seen.at(-1)).toBe(psi);
      expect(seen.some((value) => value !== psi)).toBe(true);
    }
  });
});

describe('what the collector keeps between samples', () => {
  /** A v2 service with every file the collector reads, its CPU, memory and I/O counters as given. */
  const service = (name: string, c: { pid: number; cpuUsec: number; memory: number; ioRead: number; pids: number; psi: number }) => ({
    [`system.slice/${name}/cgroup.procs`]: `${c.pid}\n`,
    [`system.slice/${name}/cpu.stat`]: cpuStatV2(c.cpuUsec),
    [`system.slice/${name}/cpu.max`]: 'max 100000\n',
    [`system.slice/${name}/memory.current`]: `${c.memory}\n`,
    [`system.slice/${name}/memory.stat`]: memoryStatV2(0),
    [`system.slice/${name}/memory.max`]: `${4 * c.memory}\n`,
    [`system.slice/${name}/io.stat`]: ioStatV2(c.ioRead, 0),
    [`system.slice/${name}/pids.current`]: `${c.pids}\n`,
    [`system.slice/${name}/cpu.pressure`]: pressure(c.psi),
  });

  it("gives each container its own figures when one goes away and another appears: none of another's carried over", async () => {
    const cgroupRoot = tempDir('pulseboard-cgroup-');
    const procRoot = tempDir('pulseboard-proc-');
    writeTree(cgroupRoot, {
      'cgroup.controllers': 'cpu io memory pids\n',
      ...service('a.service', { pid: 10, cpuUsec: 1_000_000, memory: 100 * 2 ** 20, ioRead: 1_000_000, pids: 4, psi: 9 }),
      ...service('b.service', { pid: 20, cpuUsec: 5_000_000, memory: 10 * 2 ** 20, ioRead: 50_000, pids: 1, psi: 0.5 }),
    });
    writeTree(procRoot, { '10/cmdline': '/usr/bin/a-daemon\0', '20/cmdline': '/usr/bin/b-daemon\0', '30/cmdline': '/usr/bin/c-daemon\0' });
    const collector = cgroupContainersCollector({ cadenceMs: 5000, cgroupRoot, procRoot, dockerNames: null });
    if (!collector) throw new Error('no cgroup layout found in the fixture');
    opened.push(collector);
    const a = '/system.slice/a.service';
    const b = '/system.slice/b.service';
    const c = '/system.slice/c.service';

    const first = sampleOf(collector, T0);
    const firstAsSent = JSON.stringify(first);
    // 5 s on: a used a core, b half of one and read 1 MB.
    writeFileSync(join(cgroupRoot, a, 'cpu.stat'), cpuStatV2(6_000_000));
    writeFileSync(join(cgroupRoot, b, 'cpu.stat'), cpuStatV2(7_500_000));
    writeFileSync(join(cgroupRoot, b, 'io.stat'), ioStatV2(1_050_000, 0));
    const both = sampleOf(collector, T0 + 5000);
    expect(byId(both, a)).toMatchObject({ cpu: 100, memory: 100 * 2 ** 20, ioRead: 0, pids: 4, command: 'a-daemon' });
    expect(byId(both, b)).toMatchObject({ cpu: 50, memory: 10 * 2 ** 20, ioRead: 200_000, pids: 1, command: 'b-daemon' });
    const bothAsSent = JSON.stringify(both);

    // a goes away; b busy again.
    rmSync(join(cgroupRoot, a), { recursive: true });
    writeFileSync(join(cgroupRoot, b, 'cpu.stat'), cpuStatV2(8_000_000));
    await betweenSamples();
    const onlyB = sampleOf(collector, T0 + 10_000);
    expect(onlyB.top.map((container) => container.id)).toEqual([b]);
    expect(onlyB.count).toBe(1);
    expect(onlyB.closestToLimit).toEqual({ id: b, name: 'b.service', percent: 25 });
    expect(byId(onlyB, b)).toMatchObject({ cpu: 10, ioRead: 0, pressure: { cpu: 0.5, memory: 0, io: 0 } });

    // c appears: its first reading has no rates, and its figures are its own.
    writeTree(cgroupRoot, service('c.service', { pid: 30, cpuUsec: 2_000_000, memory: 30 * 2 ** 20, ioRead: 300_000, pids: 7, psi: 2 }));
    writeFileSync(join(cgroupRoot, b, 'cpu.stat'), cpuStatV2(8_500_000));
    await betweenSamples();
    const withC = sampleOf(collector, T0 + 15_000);
    expect(byId(withC, c)).toEqual({
      id: c,
      name: 'c.service',
      kind: 'systemd',
      image: null,
      command: 'c-daemon',
      cpu: null,
      cpuOfLimit: null,
      ioRead: null,
      ioWrite: null,
      netRx: null,
      netTx: null,
      memory: 30 * 2 ** 20,
      memoryLimit: 120 * 2 ** 20,
      pids: 7,
      pressure: { cpu: 2, memory: 0, io: 0 },
    });
    expect(byId(withC, b)).toMatchObject({ cpu: 10, memory: 10 * 2 ** 20, pids: 1, command: 'b-daemon' });

    // Its rates next time are over its own counters.
    writeFileSync(join(cgroupRoot, c, 'cpu.stat'), cpuStatV2(3_000_000));
    writeFileSync(join(cgroupRoot, c, 'io.stat'), ioStatV2(800_000, 0));
    expect(byId(sampleOf(collector, T0 + 20_000), c)).toMatchObject({ cpu: 20, ioRead: 100_000, memory: 30 * 2 ** 20 });

    // b goes and d appears between the same two samples: d starts afresh too.
    rmSync(join(cgroupRoot, b), { recursive: true });
    writeTree(cgroupRoot, service('d.service', { pid: 20, cpuUsec: 9_000_000, memory: 2 ** 20, ioRead: 0, pids: 2, psi: 0 }));
    await betweenSamples();
    const withD = sampleOf(collector, T0 + 25_000);
    expect(withD.top.map((container) => container.id).sort()).toEqual([c, '/system.slice/d.service']);
    expect(byId(withD, '/system.slice/d.service')).toMatchObject({ cpu: null, ioRead: null, memory: 2 ** 20, pids: 2 });

    // Samples already published are as they were sent.
    expect(JSON.stringify(first)).toBe(firstAsSent);
    expect(JSON.stringify(both)).toBe(bothAsSent);
  });
});

const POD_CONTAINER_SHORT = POD_PATH.split('cri-containerd-')[1]?.slice(0, 12);

describe('containers from cgroup v1 hierarchies (hybrid host)', () => {
  const docker = `/docker/${DOCKER_ID}`;

  it('reads every field from cpuacct, cpu, memory, blkio and pids', () => {
    const { cgroupRoot, collector } = fixture(cgroupV1Tree);
    expect(collector.source).toBe('cgroup v1');
    sampleOf(collector, T0);
    const hierarchy = (controller: string, file: string) => join(cgroupRoot, controller, docker, file);
    writeFileSync(hierarchy('cpuacct', 'cpuacct.usage'), `${12_500_000 * 1000}\n`);
    writeFileSync(
      hierarchy('blkio', 'blkio.throttle.io_service_bytes'),
      '8:0 Read 3000000\n8:0 Write 7000000\n8:0 Sync 0\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 10000000\nTotal 10000000\n',
    );
    const sample = sampleOf(collector, T0 + 5000);
    expect(sample.count).toBe(2); // the container and cron.service; the empty /docker holds nothing
    expect(byId(sample, docker)).toEqual({
      id: docker,
      name: DOCKER_ID.slice(0, 12),
      kind: 'docker',
      image: null,
      command: 'node server.js',
      cpu: 50,
      cpuOfLimit: 33.3, // of a 1.5-core quota
      memory: 157286400 - 41943040, // usage_in_bytes less total_inactive_file
      memoryLimit: 268435456,
      ioRead: 400_000,
      ioWrite: 1_000_000,
      netRx: 0,
      netTx: 0,
      pids: 12,
      pressure: null,
    });
    expect(byId(sample, '/system.slice/cron.service')).toMatchObject({
      name: 'cron.service',
      command: 'cron',
      memory: 2097152,
      memoryLimit: null, // v1 writes 2^63 - 4096 for "no limit"
      cpu: null,
    });
  });
});

describe('no cgroups', () => {
  it('gives no collector where no controller is mounted: never a fake container', () => {
    expect(
      cgroupContainersCollector({ cadenceMs: 5000, cgroupRoot: tempDir('pulseboard-empty-'), procRoot: '/proc', dockerNames: null }),
    ).toBeNull();
  });
});

describe('top containers', () => {
  const container = (id: string, cpu: number | null, memory: number | null) => ({ id, cpu, memory }) as ContainerInfo;

  it('keeps the busiest by CPU and the largest by memory, each once', () => {
    const all = [container('a', 90, 1), container('b', 50, 2), container('c', 0, 900), container('d', null, 800), container('e', 1, 3)];
    expect(topContainers(all, 2).map((c) => c.id)).toEqual(['a', 'b', 'c', 'd']);
  });
});
