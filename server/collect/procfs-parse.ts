/** Parsers for the Linux /proc text formats, pure so they can be tested against fixtures. */

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** `/proc/stat`: the aggregate `cpu` line and the `cpuN` lines, in jiffies. Old kernels lack some columns. */
export function parseProcStat(text: string): { total: CpuTimes; cores: CpuTimes[] } {
  let total: CpuTimes | null = null;
  const cores: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const [label, ...fields] = line.trim().split(/\s+/);
    const n = fields.map((field) => Number(field) || 0);
    const times: CpuTimes = {
      user: n[0] ?? 0,
      nice: n[1] ?? 0,
      system: n[2] ?? 0,
      idle: n[3] ?? 0,
      iowait: n[4] ?? 0,
      irq: n[5] ?? 0,
      softirq: n[6] ?? 0,
      steal: n[7] ?? 0,
    };
    if (label === 'cpu') total = times;
    else if (/^cpu\d+$/.test(label ?? '')) cores[Number(label?.slice(3))] = times;
  }
  if (!total) throw new Error('/proc/stat has no cpu line');
  return { total, cores: cores.filter((core) => core !== undefined) };
}

/** `/proc/meminfo` in bytes, keyed by field name. */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([\w()]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (match) fields.set(match[1] as string, Number(match[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return fields;
}

/** `/proc/net/dev`: received and transmitted bytes per interface. */
export function parseNetDev(text: string): Map<string, { rx: number; tx: number }> {
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
}

/** `/proc/diskstats`: bytes read and written per device (sectors there are always 512 bytes). */
export function parseDiskstats(text: string): Map<string, { read: number; write: number }> {
  const devices = new Map<string, { read: number; write: number }>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    devices.set(fields[2] as string, { read: Number(fields[5]) * 512, write: Number(fields[9]) * 512 });
  }
  return devices;
}

/** `/proc/loadavg`: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] {
  const [one, five, fifteen] = text.trim().split(/\s+/).map(Number);
  return [one ?? 0, five ?? 0, fifteen ?? 0];
}

export interface ProcessStat {
  name: string;
  userTicks: number;
  systemTicks: number;
  /** Start time after boot, in ticks: with the pid, it names one process for its whole life. */
  startTicks: number;
  rssPages: number;
}

/**
 * `/proc/<pid>/stat`. The command name sits in parentheses and may itself hold spaces and parentheses,
 * so the fields are counted from the last `)`.
 */
export function parseProcessStat(text: string): ProcessStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5): utime is field 14, stime 15, starttime 22, rss 24.
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  const startTicks = Number(fields[19]);
  const rssPages = Number(fields[21]);
  if (![userTicks, systemTicks, startTicks, rssPages].every(Number.isFinite)) return null;
  return { name: text.slice(open + 1, close), userTicks, systemTicks, startTicks, rssPages: Math.max(0, rssPages) };
}
