import { loadavg } from 'node:os';
import si from 'systeminformation';
import type { CpuSample } from '../protocol.js';
import type { Collector } from './collector.js';
import { KeptOpenFile } from './procfs.js';
import { type CpuTimes, parseLoadavg, parseProcStat } from './procfs-parse.js';

const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

/** Percentages of the time between two readings: busy total, user (+nice), system (+irq), iowait. */
export function cpuUsage(before: CpuTimes, after: CpuTimes): Pick<CpuSample, 'total' | 'user' | 'system' | 'iowait'> {
  const d = (key: keyof CpuTimes) => Math.max(0, after[key] - before[key]);
  const all = d('user') + d('nice') + d('system') + d('idle') + d('iowait') + d('irq') + d('softirq') + d('steal');
  if (all === 0) return { total: 0, user: 0, system: 0, iowait: 0 };
  const percent = (value: number) => round1(Math.min(100, (value * 100) / all));
  return {
    total: percent(all - d('idle') - d('iowait')),
    user: percent(d('user') + d('nice')),
    system: percent(d('system') + d('irq') + d('softirq')),
    iowait: percent(d('iowait')),
  };
}

export function procfsCpuCollector(cadenceMs: number, procRoot = '/proc'): Collector<'cpu'> {
  const stat = new KeptOpenFile(`${procRoot}/stat`);
  const load = new KeptOpenFile(`${procRoot}/loadavg`);
  let previous = parseProcStat(stat.read());
  return {
    topic: 'cpu',
    source: 'procfs',
    cadenceMs,
    sample(t) {
      const current = parseProcStat(stat.read());
      const usage = cpuUsage(previous.total, current.total);
      const cores = current.cores.map((core, i) => cpuUsage(previous.cores[i] ?? core, core).total);
      previous = current;
      const [one, five, fifteen] = parseLoadavg(load.read());
      return { t, ...usage, cores, load: [one, five, fifteen] };
    },
    close() {
      stat.close();
      load.close();
    },
  };
}

/** Portable source. systeminformation has no iowait figure outside Linux: it is reported as 0. */
export function portableCpuCollector(cadenceMs: number): Collector<'cpu'> {
  return {
    topic: 'cpu',
    source: 'systeminformation',
    cadenceMs,
    async init() {
      await si.currentLoad();
    },
    async sample(t) {
      const current = await si.currentLoad();
      const [one = 0, five = 0, fifteen = 0] = loadavg();
      return {
        t,
        total: round1(current.currentLoad),
        user: round1(current.currentLoadUser + current.currentLoadNice),
        system: round1(current.currentLoadSystem + current.currentLoadIrq),
        iowait: 0,
        cores: current.cpus.map((core) => round1(core.load)),
        load: [round2(one), round2(five), round2(fifteen)],
      };
    },
  };
}
