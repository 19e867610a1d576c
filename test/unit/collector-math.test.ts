import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuUsage } from '../../server/collect/cpu.js';
import { filterMounts, parseMounts } from '../../server/collect/filesystem.js';
import { memoryFromMeminfo } from '../../server/collect/memory.js';
import { networkSample } from '../../server/collect/network.js';
import { topProcesses } from '../../server/collect/processes.js';
import {
  type CpuTimes,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcessStat,
  parseProcStat,
} from '../../server/collect/procfs-parse.js';
import { CounterRates, counterDelta, perSecond } from '../../server/collect/rate.js';

describe('counter rates', () => {
  it('give 0 for a counter that did not move, not the whole counter', () => {
    expect(counterDelta(123_456, 123_456)).toBe(0);
    expect(perSecond(123_456, 123_456, 1000)).toBe(0);
    const rates = new CounterRates<'rx' | 'tx'>();
    rates.update(0, new Map([['eth0', { rx: 5000, tx: 7000 }]]));
    expect(rates.update(1000, new Map([['eth0', { rx: 5000, tx: 7500 }]]))?.get('eth0')).toEqual({ rx: 0, tx: 500 });
  });

  it('count the delta of a counter that grew, per second of the time between the readings', () => {
    expect(counterDelta(100, 101)).toBe(1);
    expect(perSecond(0, 300, 1500)).toBe(200);
    expect(perSecond(0, 300, -5)).toBe(0);
  });

  it('rate each reading against the one just before it, not the first', () => {
    const rates = new CounterRates<'rx'>();
    rates.update(0, new Map([['eth0', { rx: 0 }]]));
    rates.update(1000, new Map([['eth0', { rx: 1000 }]]));
    expect(rates.update(3000, new Map([['eth0', { rx: 5000 }]]))?.get('eth0')).toEqual({ rx: 2000 });
  });
});

describe('/proc/stat parsing edges', () => {
  it('reads the total line and the numbered cores by their number, ignoring other lines and gaps', () => {
    const text = 'cpu  10 0 10 80 0 0 0 0\ncpu2 3 0 3 30\ncpu0 1 0 1 10\ncpufreq 9 9 9 9\ncpux 9 9 9 9\nintr 5\n';
    const { total, cores } = parseProcStat(text);
    expect(total).toEqual({ user: 10, nice: 0, system: 10, idle: 80, iowait: 0, irq: 0, softirq: 0, steal: 0 });
    expect(cores.map((core) => core.user)).toEqual([1, 3]);
  });

  it('reads a field that is not a number as 0, and refuses a file without the cpu line', () => {
    expect(parseProcStat('cpu  x 1 2 3\n').total).toMatchObject({ user: 0, nice: 1, system: 2, idle: 3 });
    expect(() => parseProcStat('cpu0 1 2 3 4\n')).toThrow('/proc/stat has no cpu line');
  });
});

describe('cpu percentages', () => {
  const times = (t: Partial<CpuTimes>): CpuTimes => ({
    user: 0,
    nice: 0,
    system: 0,
    idle: 0,
    iowait: 0,
    irq: 0,
    softirq: 0,
    steal: 0,
    ...t,
  });

  it('count nice as user, irq and softirq as system, steal as busy, and iowait apart from busy', () => {
    const before = times({});
    const after = times({ user: 10, nice: 10, system: 5, irq: 3, softirq: 2, steal: 10, idle: 40, iowait: 20 });
    expect(cpuUsage(before, after)).toEqual({ total: 40, user: 20, system: 10, iowait: 20 });
  });

  it('read a counter that went backwards as no time, and round to a tenth', () => {
    const before = times({ user: 100, idle: 1000 });
    const after = times({ user: 101, idle: 999, system: 2 });
    expect(cpuUsage(before, after)).toEqual({ total: 100, user: 33.3, system: 66.7, iowait: 0 });
  });
});

describe('/proc/meminfo edges', () => {
  it('keeps numbers without kB as they are, and reads names with parentheses', () => {
    const fields = parseMeminfo('HugePages_Total:       5\nActive(anon):     2 kB\nbroken line\n');
    expect(fields.get('HugePages_Total')).toBe(5);
    expect(fields.get('Active(anon)')).toBe(2048);
    expect(fields.size).toBe(2);
  });

  it('derives available memory on kernels without MemAvailable, and never reports negative use', () => {
    const fields = new Map([
      ['MemTotal', 1000],
      ['MemFree', 600],
      ['Buffers', 300],
      ['Cached', 200],
      ['SwapTotal', 10],
      ['SwapFree', 20],
    ]);
    expect(memoryFromMeminfo(5, fields)).toMatchObject({ total: 1000, available: 1100, used: 0, swapUsed: 0, cached: 200, buffers: 300 });
    expect(() => memoryFromMeminfo(5, new Map([['MemFree', 1]]))).toThrow('/proc/meminfo has no MemTotal');
  });
});

describe('/proc/net/dev, /proc/diskstats and /proc/loadavg edges', () => {
  it('skips the two header lines, lines without a colon or a name, and short lines', () => {
    const text = 'eth9: 1 0 0 0 0 0 0 0 2\nheader 2\n  eth0: 1 0 0 0 0 0 0 0 2 0\nnocolon 1 2 3\n : 1 0 0 0 0 0 0 0 2\n  short: 1 2 3\n';
    expect([...parseNetDev(text)]).toEqual([['eth0', { rx: 1, tx: 2 }]]);
  });

  it('needs ten fields on a diskstats line', () => {
    expect([...parseDiskstats('8 0 sda 1 0 2 0 3 0 4\n8 1 sdb 1 0 2 0 3 0\n')]).toEqual([['sda', { read: 1024, write: 2048 }]]);
  });

  it('reads missing load averages as 0', () => {
    expect(parseLoadavg('0.5\n')).toEqual([0.5, 0, 0]);
  });

  it('refuses a process stat without its parentheses, and never reports negative pages', () => {
    expect(parseProcessStat('42 )x( S 1')).toBeNull();
    const line = '7 (a) S 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 1 -3';
    expect(parseProcessStat(line)).toEqual({ name: 'a', userTicks: 5, systemTicks: 6, startTicks: 99, rssPages: 0 });
  });
});

describe('network and filesystem lists', () => {
  it('rank interfaces by traffic, then by name, and round the figures', () => {
    const sample = networkSample(
      1,
      [
        { name: 'eth1', rx: 10.4, tx: 0 },
        { name: 'eth0', rx: 5, tx: 5.4 },
        { name: 'wlan0', rx: 100.6, tx: 0 },
        { name: 'lo', rx: 1e9, tx: 1e9 },
      ],
      { exclude: /^lo$/, maxItems: 2 },
    );
    expect(sample).toEqual({
      t: 1,
      rx: 116,
      tx: 5,
      interfaces: [
        { name: 'wlan0', rx: 101, tx: 0 },
        { name: 'eth0', rx: 5, tx: 5 },
      ],
    });
  });

  it('keep the first mount of a device (the shortest path), drop empty ones, and rank by size then path', () => {
    const mounts = filterMounts(
      [
        { mount: '/srv/data', fs: '/dev/b', type: 'xfs', size: 50, used: 1 },
        { mount: '/data', fs: '/dev/b', type: 'xfs', size: 50, used: 1 },
        { mount: '/b', fs: '/dev/c', type: 'ext4', size: 50, used: 1 },
        { mount: '/empty', fs: '/dev/d', type: 'ext4', size: 0, used: 0 },
        { mount: '/big', fs: '/dev/e', type: 'ext4', size: 90, used: 1 },
      ],
      { excludeTypes: /^tmpfs$/, maxItems: 3 },
    );
    expect(mounts.map((m) => m.mount)).toEqual(['/big', '/b', '/data']);
  });

  it('read a mounts table, skipping lines with fewer than three fields', () => {
    expect(parseMounts('/dev/a / ext4 rw 0 0\nincomplete line\n\n')).toEqual([{ fs: '/dev/a', mount: '/', type: 'ext4' }]);
  });

  it('list the busiest processes first, ties by memory, then the largest others', () => {
    const all = [
      { pid: 1, name: 'a', cpu: 5, rss: 10 },
      { pid: 2, name: 'b', cpu: 5, rss: 20 },
      { pid: 3, name: 'c', cpu: 1, rss: 5 },
      { pid: 4, name: 'd', cpu: 0, rss: 30 },
    ];
    expect(topProcesses(all, 1).map((p) => p.pid)).toEqual([2, 4]);
    expect(topProcesses(all, 2).map((p) => p.pid)).toEqual([2, 1, 4, 3]);
    expect(topProcesses([], 2)).toEqual([]);
  });
});

describe('parser edges that real files have', () => {
  it('has no cores for a /proc/stat without cpuN lines, and reads every column of a line', () => {
    const { total, cores } = parseProcStat('cpu  1 2 3 4 5 6 7 8 9 10\n');
    expect(cores).toEqual([]);
    expect(total).toEqual({ user: 1, nice: 2, system: 3, idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8 });
  });

  it('numbers cores past 9', () => {
    const lines = Array.from({ length: 12 }, (_, i) => `cpu${i} ${i} 0 0 1`);
    expect(parseProcStat(`cpu  1 0 0 1\n${lines.join('\n')}\n`).cores.map((core) => core.user)).toEqual(
      Array.from({ length: 12 }, (_, i) => i),
    );
  });

  it('reads only lines that start with a field name in /proc/meminfo', () => {
    expect([...parseMeminfo('Bad key: 5 kB\nMemTotal:   7 kB\n')]).toEqual([['MemTotal', 7168]]);
  });

  it('reads /proc/net/dev columns however many spaces part them, with exactly nine fields or more', () => {
    const text = 'h1\nh2\n  eth0:    100      2    0    0    0     0          0         0      300\n 1 2 3 4 5 6 7 8 9 10 11\n';
    expect([...parseNetDev(text)]).toEqual([['eth0', { rx: 100, tx: 300 }]]);
  });

  it('reads /proc/loadavg with spaces around and between', () => {
    expect(parseLoadavg('  0.5  0.4 0.3 1/2 3\n')).toEqual([0.5, 0.4, 0.3]);
  });

  it('reads a process stat whose line starts with the name, and refuses one with the parentheses the wrong way or none', () => {
    const tail = 'S 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 1 2';
    expect(parseProcessStat(`(a) ${tail}`)).toMatchObject({ name: 'a', userTicks: 5 });
    expect(parseProcessStat(`7 )a( ${tail}`)).toBeNull();
    expect(parseProcessStat(`7 a ${tail}`)).toBeNull();
    expect(parseProcessStat('7 (a) S 1 7 7 0 -1 0 0 0 0 0 x 6 0 0 20 0 1 0 99 1 2')).toBeNull();
    expect(parseProcessStat('7 (a) S 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 1')).toBeNull();
  });

  it('keeps a mount line of exactly three fields', () => {
    expect(parseMounts('/dev/a /srv ext4\n')).toEqual([{ fs: '/dev/a', mount: '/srv', type: 'ext4' }]);
  });

  it('keeps mounts of size 0 out, and lists at most maxItems', () => {
    const mounts = [
      { mount: '/a', fs: '/dev/a', type: 'ext4', size: 10, used: 1 },
      { mount: '/zero', fs: '/dev/z', type: 'ext4', size: 0, used: 0 },
      { mount: '/b', fs: '/dev/b', type: 'ext4', size: 20, used: 1 },
    ];
    expect(filterMounts(mounts, { excludeTypes: /^$/, maxItems: 10 }).map((m) => m.mount)).toEqual(['/b', '/a']);
    expect(filterMounts(mounts, { excludeTypes: /^$/, maxItems: 1 }).map((m) => m.mount)).toEqual(['/b']);
  });

  it('ranks interfaces by received and sent bytes together, in any order given', () => {
    const sending = { name: 'up', rx: 0, tx: 100 };
    const receiving = { name: 'down', rx: 60, tx: 0 };
    for (const rates of [
      [sending, receiving],
      [receiving, sending],
    ]) {
      expect(networkSample(1, rates, { exclude: /^$/, maxItems: 1 }).interfaces.map((i) => i.name)).toEqual(['up']);
    }
  });
});

describe('/proc parsers read what a split-and-regex reading reads', () => {
  // The straightforward readings the scanning parsers replaced (they built an array per line each second).
  const meminfoBySplit = (text: string) => {
    const fields = new Map<string, number>();
    for (const line of text.split('\n')) {
      const match = /^([\w()]+):\s+(\d+)(?:\s+kB)?/.exec(line);
      if (match) fields.set(match[1] as string, Number(match[2]) * (line.includes('kB') ? 1024 : 1));
    }
    return fields;
  };
  const diskstatsBySplit = (text: string) => {
    const devices = new Map<string, { read: number; write: number }>();
    for (const line of text.split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      devices.set(fields[2] as string, { read: Number(fields[5]) * 512, write: Number(fields[9]) * 512 });
    }
    return devices;
  };
  const meminfoEdges = [
    'MemTotal:\t7 kB\r\nSwapFree: 0\n',
    'A:5',
    'A: x 5 kB\nB:  \n:5 kB\nC:6kB\n(x): 9 kB',
    'Bad key: 5\n\n\nD:   12 kB trailing',
  ];
  const diskstatsEdges = [
    '   8  0 sda 1 2 3 4 5 6 7 8 9 10 11',
    '8 0 sdb 1 0 2 0 3 0 4\n8 1 sdc 1 0 2 0 3 0 4 5\n',
    '\t8\t0\tnvme0n1\t1\t0\tx\t0\t3\t0\t4\r\n',
    '',
  ];

  const procStatBySplit = (text: string) => {
    let total: CpuTimes | null = null;
    const cores: CpuTimes[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('cpu')) continue;
      const [label, ...fields] = line.trim().split(/\s+/);
      const n = fields.map((field) => Number(field) || 0);
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = n;
      const times = { user, nice, system, idle, iowait, irq, softirq, steal };
      if (label === 'cpu') total = times;
      else if (/^cpu\d+$/.test(label ?? '')) cores[Number(label?.slice(3))] = times;
    }
    return { total, cores: cores.filter((core) => core !== undefined) };
  };
  const netDevBySplit = (text: string) => {
    const interfaces = new Map<string, { rx: number; tx: number }>();
    for (const line of text.split('\n').slice(2)) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const name = line.slice(0, colon).trim();
      const fields = line
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .map(Number);
      if (name === '' || fields.length < 9) continue;
      interfaces.set(name, { rx: fields[0] ?? 0, tx: fields[8] ?? 0 });
    }
    return interfaces;
  };

  it("on this host's /proc/stat and /proc/net/dev, and on edge lines", () => {
    const statEdges = ['cpu  1 2\ncpu0 1 2 3 4 5 6 7 8 9 10\r\ncpux 1\ncpu3\t4 x 5\nintr 1 2\n', 'cpu 1 2 3 4 5 6 7 8'];
    for (const text of [readFileSync('/proc/stat', 'latin1'), ...statEdges]) expect(parseProcStat(text)).toEqual(procStatBySplit(text));
    const netEdges = [
      'h\nh\n  eth0: 1 2 3 4 5 6 7 8 9\n:1 2 3 4 5 6 7 8 9\nlo:1 2 3\nwg0:\t5 0 0 0 0 0 0 0 x 1\r\nnocolon 1 2',
      'only one line',
    ];
    for (const text of [readFileSync('/proc/net/dev', 'latin1'), ...netEdges]) expect(parseNetDev(text)).toEqual(netDevBySplit(text));
  });

  it("on this host's /proc/meminfo and /proc/diskstats, and on edge lines", () => {
    for (const text of [readFileSync('/proc/meminfo', 'latin1'), ...meminfoEdges]) expect(parseMeminfo(text)).toEqual(meminfoBySplit(text));
    for (const text of [readFileSync('/proc/diskstats', 'latin1'), ...diskstatsEdges])
      expect(parseDiskstats(text)).toEqual(diskstatsBySplit(text));
  });
});
