import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { shortCommand } from '../../server/collect/command-line.js';
import { containerName } from '../../server/collect/container-identity.js';
import { cpuUsage } from '../../server/collect/cpu.js';
import { filterMounts, parseMounts } from '../../server/collect/filesystem.js';
import { createCollectors, DEFAULT_EXCLUDE_FS_TYPES, DEFAULT_EXCLUDE_INTERFACES } from '../../server/collect/index.js';
import { memoryFromMeminfo } from '../../server/collect/memory.js';
import { networkSample } from '../../server/collect/network.js';
import { percentileOf, processCollector, residentPages } from '../../server/collect/process.js';
import { parseProcessCgroup, UserNames } from '../../server/collect/process-details.js';
import { pageSizeFromStatm, procfsProcessesCollector, topProcesses } from '../../server/collect/processes.js';
import {
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcessStat,
  parseProcStat,
} from '../../server/collect/procfs-parse.js';
import { CounterRates, counterDelta, perSecond } from '../../server/collect/rate.js';
import { findInvalidNumber } from '../../server/collect/sampler.js';
import { discoverSensors, sysfsTemperatureCollector } from '../../server/collect/temperature.js';
import type { ProcessesSample, ProcessSample } from '../../server/protocol.js';

describe('rate math', () => {
  it('has no rate for the first reading, then per-second deltas', () => {
    const rates = new CounterRates<'rx'>();
    expect(rates.update(1000, new Map([['eth0', { rx: 100 }]]))).toBeNull();
    expect(rates.update(3000, new Map([['eth0', { rx: 2100 }]]))?.get('eth0')).toEqual({ rx: 1000 });
  });

  it('never goes negative when a counter resets or wraps: counts from zero', () => {
    expect(counterDelta(4_294_967_000, 200)).toBe(200);
    expect(perSecond(5000, 1000, 1000)).toBe(1000);
  });

  it('gives 0, not Infinity, when no time passed', () => {
    expect(perSecond(0, 100, 0)).toBe(0);
  });

  it('gives 0 for an interface that appears between readings', () => {
    const rates = new CounterRates<'rx'>();
    rates.update(0, new Map([['eth0', { rx: 1 }]]));
    expect(rates.update(1000, new Map([['eth1', { rx: 500 }]]))?.get('eth1')).toEqual({ rx: 0 });
  });
});

describe('/proc parsers', () => {
  it('parses /proc/stat, including old kernels without iowait columns', () => {
    const text = 'cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 1 1 1 0 0\ncpu1 50 3 25 400\nintr 1 2 3\nctxt 99\n';
    const { total, cores } = parseProcStat(text);
    expect(total).toMatchObject({ user: 100, nice: 5, system: 50, idle: 800, iowait: 20, steal: 3 });
    expect(cores).toHaveLength(2);
    expect(cores[1]).toMatchObject({ idle: 400, iowait: 0 });
  });

  it('turns two /proc/stat readings into percentages of the interval', () => {
    const before = parseProcStat('cpu  100 0 100 700 100 0 0 0\n').total;
    const after = parseProcStat('cpu  200 0 150 950 100 0 0 0\n').total;
    expect(cpuUsage(before, after)).toEqual({ total: 37.5, user: 25, system: 12.5, iowait: 0 });
    expect(cpuUsage(after, after)).toEqual({ total: 0, user: 0, system: 0, iowait: 0 });
  });

  it('parses /proc/meminfo into bytes and derives used from MemAvailable', () => {
    const fields = parseMeminfo(
      'MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    600 kB\nBuffers:          10 kB\nCached:          200 kB\nSReclaimable:     50 kB\nSwapTotal:       100 kB\nSwapFree:         40 kB\n',
    );
    expect(memoryFromMeminfo(1, fields)).toEqual({
      t: 1,
      total: 1_024_000,
      used: 409_600,
      available: 614_400,
      cached: 256_000,
      buffers: 10_240,
      swapTotal: 102_400,
      swapUsed: 61_440,
    });
  });

  it('parses /proc/net/dev, also when the name is glued to the first number', () => {
    const text =
      'Inter-|   Receive\n face |bytes packets\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\nveth12345:123 1 0 0 0 0 0 0 456 2 0 0 0 0 0 0\n';
    expect([...parseNetDev(text)]).toEqual([
      ['eth0', { rx: 1000, tx: 2000 }],
      ['veth12345', { rx: 123, tx: 456 }],
    ]);
  });

  it('parses /proc/diskstats sectors into bytes', () => {
    const text = '   8       0 sda 100 0 2000 0 50 0 4000 0 0 0 0\n   8       1 sda1 10 0 200 0 5 0 400 0 0 0 0\n';
    expect(parseDiskstats(text).get('sda')).toEqual({ read: 2000 * 512, write: 4000 * 512 });
  });

  it('parses /proc/loadavg', () => {
    expect(parseLoadavg('0.52 0.40 0.31 1/234 5678\n')).toEqual([0.52, 0.4, 0.31]);
  });

  it('parses /proc/self/mounts with escaped spaces', () => {
    expect(parseMounts('/dev/sda1 /mnt/my\\040disk ext4 rw 0 0\n')).toEqual([{ fs: '/dev/sda1', mount: '/mnt/my disk', type: 'ext4' }]);
  });
});

describe('filters that keep payloads bounded on container hosts', () => {
  it('drops virtual interfaces, totals the kept ones and lists the busiest few', () => {
    const rates = [
      { name: 'lo', rx: 1e9, tx: 1e9 },
      { name: 'eth0', rx: 100, tx: 50 },
      { name: 'eth1', rx: 10, tx: 5 },
      ...Array.from({ length: 300 }, (_, i) => ({ name: `veth${i}`, rx: 7, tx: 7 })),
    ];
    const sample = networkSample(1, rates, { exclude: DEFAULT_EXCLUDE_INTERFACES, maxItems: 1 });
    expect(sample).toEqual({ t: 1, rx: 110, tx: 55, interfaces: [{ name: 'eth0', rx: 100, tx: 50 }] });
  });

  it('drops virtual filesystems and bind mounts of the same device, largest first', () => {
    const mounts = filterMounts(
      [
        { mount: '/', fs: '/dev/vda', type: 'ext4', size: 100, used: 10 },
        { mount: '/etc/hosts', fs: '/dev/vda', type: 'ext4', size: 100, used: 10 },
        { mount: '/run', fs: 'tmpfs', type: 'tmpfs', size: 5, used: 1 },
        { mount: '/data', fs: '/dev/vdb', type: 'xfs', size: 500, used: 50 },
      ],
      { excludeTypes: DEFAULT_EXCLUDE_FS_TYPES, maxItems: 16 },
    );
    expect(mounts.map((m) => m.mount)).toEqual(['/data', '/']);
  });
});

describe('temperature sensors', () => {
  it('finds hwmon sensors with their labels, and reads them in degrees', () => {
    const root = mkdtempSync(join(tmpdir(), 'pulseboard-sysfs-'));
    mkdirSync(join(root, 'hwmon', 'hwmon0'), { recursive: true });
    writeFileSync(join(root, 'hwmon', 'hwmon0', 'name'), 'k10temp\n');
    writeFileSync(join(root, 'hwmon', 'hwmon0', 'temp1_input'), '48250\n');
    writeFileSync(join(root, 'hwmon', 'hwmon0', 'temp1_label'), 'Tctl\n');
    expect(discoverSensors(root).map((s) => s.name)).toEqual(['k10temp Tctl']);
    const collector = sysfsTemperatureCollector(5000, root);
    expect(collector?.sample(1)).toEqual({ t: 1, main: 48.3, max: 48.3, sensors: [{ name: 'k10temp Tctl', celsius: 48.3 }] });
    collector?.close?.();
  });

  it('gives no collector at all on a host without sensors: never a fake value', () => {
    const root = mkdtempSync(join(tmpdir(), 'pulseboard-sysfs-'));
    expect(sysfsTemperatureCollector(5000, root)).toBeNull();
  });
});

describe('the collectors of this host', () => {
  it('sample finite, non-negative numbers of the right shape', async () => {
    const collectors = await createCollectors({
      intervalMs: 1000,
      filesystemIntervalMs: 30_000,
      excludeInterfaces: DEFAULT_EXCLUDE_INTERFACES,
      excludeFsTypes: DEFAULT_EXCLUDE_FS_TYPES,
      maxItems: 16,
      portable: false,
      dockerSocket: null,
      procfs: null,
      sysfs: null,
    });
    const topics = collectors.map((c) => c.topic);
    expect(topics).toEqual(expect.arrayContaining(['cpu', 'memory', 'network', 'disk', 'filesystem', 'process']));
    for (const collector of collectors) {
      const sample = await collector.sample(Date.now());
      expect(sample, collector.topic).not.toBeNull();
      expect(findInvalidNumber(sample, collector.topic !== 'temperature'), collector.topic).toBeNull();
      collector.close?.();
    }
  });
});

describe('top processes', () => {
  it('parses /proc/<pid>/stat, also when the name holds spaces and parentheses', () => {
    const line = '4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 4 0 123456 104857600 2560 18446744073709551615';
    expect(parseProcessStat(line)).toEqual({ name: 'my (odd) app', userTicks: 150, systemTicks: 50, startTicks: 123456, rssPages: 2560 });
    expect(parseProcessStat('garbage')).toBeNull();
  });

  it('lists the top by CPU and the top by memory, each process once, always as many', () => {
    const all = Array.from({ length: 30 }, (_, i) => ({ pid: i + 1, name: `p${i}`, cpu: i, rss: (30 - i) * 1000 }));
    expect(topProcesses(all, 3).map((p) => p.pid)).toEqual([30, 29, 28, 1, 2, 3]);
    // The busiest is also the largest: the memory ranking continues further down, same length.
    const overlapping = all.map((p) => ({ ...p, rss: p.cpu * 1000 }));
    expect(topProcesses(overlapping, 3).map((p) => p.pid)).toEqual([30, 29, 28, 27, 26, 25]);
    const both = topProcesses([{ pid: 1, name: 'a', cpu: 50, rss: 10 ** 9 }], 3);
    expect(both).toHaveLength(1);
  });

  it('samples this host: its own process among them, with the CPU it used since the baseline, its command line, user and container', async () => {
    const collector = procfsProcessesCollector(5000, pageSizeFromStatm(), {
      users: new UserNames(),
      containerOf: (cgroup) => containerName(cgroup, null),
    });
    const cpuMs = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };
    const baselineAt = Date.now();
    const usedBefore = cpuMs();
    collector.sample(baselineAt);
    // 300 ms of CPU, however long the machine takes to give them.
    while (cpuMs() < usedBefore + 300) Math.sqrt(Math.random());
    const sampledAt = Date.now();
    const used = cpuMs() - usedBefore;
    const sample = (await collector.sample(sampledAt)) as ProcessesSample;
    expect(sample.count).toBeGreaterThan(1);
    const self = sample.top.find((p) => p.pid === process.pid);
    expect(self?.rss).toBeGreaterThan(10 * 1024 * 1024);
    // The kernel counts in 10 ms ticks, and walking /proc costs a few ms more: 40 ms of CPU either way.
    const percentOf = (ms: number) => (ms * 100) / (sampledAt - baselineAt);
    expect(self?.cpu).toBeGreaterThanOrEqual(percentOf(used - 40));
    expect(self?.cpu).toBeLessThanOrEqual(percentOf(used + 40));
    const cgroup = parseProcessCgroup(readFileSync('/proc/self/cgroup', 'latin1'));
    expect(self).toMatchObject({
      name: shortCommand(readFileSync('/proc/self/cmdline', 'latin1'), 'node'),
      user: process.getuid?.() === 0 ? 'root' : expect.any(String),
      container: cgroup === null ? null : containerName(cgroup, null),
    });
  });
});

describe('memory of this process', () => {
  it('reads the resident pages from /proc/self/statm', () => {
    expect(residentPages('123456 2560 789 10 0 4000 0\n')).toBe(2560);
  });

  it("gives Node's memory figures without calling process.memoryUsage() (it opens /proc/self/stat on every call)", () => {
    const collector = processCollector(1000);
    const memoryUsage = vi.spyOn(process, 'memoryUsage');
    try {
      const sample = collector.sample(Date.now()) as ProcessSample;
      expect(memoryUsage).not.toHaveBeenCalled();
      memoryUsage.mockRestore();
      const node = process.memoryUsage();
      // The same figures, read a moment apart: only a unit or field slip (pages for bytes, heap for RSS) is off by 2x.
      expect(sample.rss).toBeGreaterThan(node.rss / 2);
      expect(sample.rss).toBeLessThan(node.rss * 2);
      expect(sample.heapTotal).toBeGreaterThan(node.heapTotal / 2);
      expect(sample.heapTotal).toBeLessThan(node.heapTotal * 2);
      expect(sample.heapUsed).toBeGreaterThan(0);
      expect(sample.heapUsed).toBeLessThanOrEqual(sample.heapTotal);
    } finally {
      memoryUsage.mockRestore();
      collector.close?.();
    }
  });
});

describe('event-loop lag of this process', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const blockFor = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // a synchronous stall, as a long JSON.parse or a sync read would be
    }
  };

  it('reports a 400 ms stall of the loop right after a sample as a p99 lag of at least the stall, with no probe timer', async () => {
    const collector = processCollector(1000);
    try {
      await sleep(200);
      await collector.sample(Date.now()); // starts a fresh window, right before the stall
      blockFor(400);
      // The after-sample timer, overdue, fires before any timer set now (timers fire in the order they fall due).
      await sleep(1);
      const sample = (await collector.sample(Date.now())) as ProcessSample;
      expect(sample.lagP99).toBeGreaterThanOrEqual(390);
      // Milliseconds, not microseconds: only a unit slip (x1000) would cross this.
      expect(sample.lagP99).toBeLessThan(40_000);
    } finally {
      collector.close?.();
    }
  });

  it('counts the tick lateness the sampler reports as a lag reading', async () => {
    const collector = processCollector(1000);
    try {
      await collector.sample(Date.now());
      await sleep(5);
      const sample = (await collector.sample(Date.now(), 300)) as ProcessSample;
      expect(sample.lagP99).toBe(300);
    } finally {
      collector.close?.();
    }
  });

  it('arms no timer between samples: an idle process is not woken by the lag readings', async () => {
    vi.useFakeTimers();
    const collector = processCollector(1000);
    try {
      expect(vi.getTimerCount()).toBe(0);
      await collector.sample(Date.now());
      await vi.advanceTimersByTimeAsync(5); // the after-sample timer fires on the next turn
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      collector.close?.();
      vi.useRealTimers();
    }
  });

  it('takes the after-sample reading in the same turn of the loop, with no timer: one wake-up per tick, not two', async () => {
    // Timers are faked and never advanced; immediates stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const collector = processCollector(1000);
    try {
      await collector.sample(Date.now());
      expect(vi.getTimerCount()).toBe(0);
      blockFor(50);
      await new Promise((resolve) => setImmediate(resolve));
      const sample = (await collector.sample(Date.now())) as ProcessSample;
      expect(sample.lagP99).toBeGreaterThanOrEqual(45);
    } finally {
      collector.close?.();
      vi.useRealTimers();
    }
  });

  it('keeps the loop from blocking until the after-sample reading is taken, even with nothing else queued (a referenced immediate)', () => {
    // An unreferenced immediate lets the loop sleep in its poll until the next timer: the reading would be a whole interval.
    const immediates = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Immediate').length;
    const collector = processCollector(1000);
    try {
      const before = immediates();
      collector.sample(Date.now());
      expect(immediates()).toBe(before + 1);
    } finally {
      collector.close?.();
    }
  });

  it('reports how busy the loop was between samples: near all of it through a stall, little of it while it waits', async () => {
    const collector = processCollector(1000);
    try {
      await collector.sample(Date.now());
      blockFor(300);
      const stalled = (await collector.sample(Date.now())) as ProcessSample;
      await sleep(300);
      const waited = (await collector.sample(Date.now())) as ProcessSample;
      // Percent, not a ratio: the stall is all but the whole interval.
      expect(stalled.loopBusy).toBeGreaterThan(80);
      expect(stalled.loopBusy).toBeLessThanOrEqual(100);
      expect(waited.loopBusy).toBeLessThan(50);
      expect(waited.loopBusy).toBeGreaterThanOrEqual(0);
    } finally {
      collector.close?.();
    }
  });

  it('takes nearest-rank percentiles of a few readings', () => {
    expect(percentileOf([], 99)).toBe(0);
    expect(percentileOf([3, 400], 99)).toBe(400);
    expect(percentileOf([3, 400], 50)).toBe(3);
    expect(percentileOf([5, 1, 9, 7], 50)).toBe(5);
  });
});
