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

/**
 * Start and end of each line of `text`, and of the whitespace-separated fields in it, without building
 * arrays of substrings: these files are parsed every second, and their garbage was most of an idle server's.
 */
function eachLine(text: string, visit: (start: number, end: number) => void): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    visit(start, end);
    start = end + 1;
  }
}

const isSpace = (code: number) => code === 32 || (code >= 9 && code <= 13);
const isDigit = (code: number) => code >= 48 && code <= 57;

/** Offsets of the fields of `text[start, end)` into `into`, as [start0, end0, start1, end1, ...]; returns the count. */
function fieldOffsets(text: string, start: number, end: number, into: number[]): number {
  let count = 0;
  let i = start;
  while (i < end) {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i === end) break;
    const fieldStart = i;
    while (i < end && !isSpace(text.charCodeAt(i))) i++;
    into[2 * count] = fieldStart;
    into[2 * count + 1] = i;
    count++;
  }
  return count;
}

/** `/proc/stat`: the aggregate `cpu` line and the `cpuN` lines, in jiffies. Old kernels lack some columns. */
export function parseProcStat(text: string): { total: CpuTimes; cores: CpuTimes[] } {
  let total: CpuTimes | null = null;
  const cores: CpuTimes[] = [];
  const at: number[] = [];
  let count = 0;
  const field = (n: number) => (n < count ? Number(text.slice(at[2 * n], at[2 * n + 1])) || 0 : 0);
  eachLine(text, (start, end) => {
    if (!text.startsWith('cpu', start)) return;
    count = fieldOffsets(text, start, end, at);
    const times: CpuTimes = {
      user: field(1),
      nice: field(2),
      system: field(3),
      idle: field(4),
      iowait: field(5),
      irq: field(6),
      softirq: field(7),
      steal: field(8),
    };
    const label = text.slice(at[0], at[1]);
    if (label === 'cpu') total = times;
    else if (/^cpu\d+$/.test(label)) cores[Number(label.slice(3))] = times;
  });
  if (!total) throw new Error('/proc/stat has no cpu line');
  return { total, cores: cores.filter((core) => core !== undefined) };
}

const MEMINFO_NAME = /^[\w()]+$/;

/** `/proc/meminfo` in bytes, keyed by field name. */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  eachLine(text, (start, end) => {
    const colon = text.indexOf(':', start);
    if (colon <= start || colon >= end) return;
    let i = colon + 1;
    if (i >= end || !isSpace(text.charCodeAt(i))) return;
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    const digits = i;
    let value = 0;
    for (; i < end && isDigit(text.charCodeAt(i)); i++) value = value * 10 + text.charCodeAt(i) - 48;
    if (i === digits) return;
    const name = text.slice(start, colon);
    if (!MEMINFO_NAME.test(name)) return;
    const kB = text.indexOf('kB', start);
    fields.set(name, value * (kB !== -1 && kB < end ? 1024 : 1));
  });
  return fields;
}

/** `/proc/net/dev`: received and transmitted bytes per interface. */
export function parseNetDev(text: string): Map<string, { rx: number; tx: number }> {
  const interfaces = new Map<string, { rx: number; tx: number }>();
  const at: number[] = [];
  let line = 0;
  eachLine(text, (start, end) => {
    if (line++ < 2) return; // two header lines
    const colon = text.indexOf(':', start);
    if (colon === -1 || colon >= end) return;
    const name = text.slice(start, colon).trim();
    if (name === '' || fieldOffsets(text, colon + 1, end, at) < 9) return;
    interfaces.set(name, { rx: Number(text.slice(at[0], at[1])), tx: Number(text.slice(at[16], at[17])) });
  });
  return interfaces;
}

/** `/proc/diskstats`: bytes read and written per device (sectors there are always 512 bytes). */
export function parseDiskstats(text: string): Map<string, { read: number; write: number }> {
  const devices = new Map<string, { read: number; write: number }>();
  const at: number[] = [];
  const field = (n: number) => text.slice(at[2 * n], at[2 * n + 1]);
  eachLine(text, (start, end) => {
    if (fieldOffsets(text, start, end, at) < 10) return;
    devices.set(field(2), { read: Number(field(5)) * 512, write: Number(field(9)) * 512 });
  });
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
  // Fields after the name are split on single spaces, as split(' ') would, without the array of ~50 strings
  // per process that made most of a processes walk's garbage. Field 0 here is field 3 (state) of proc(5):
  // utime is field 14, stime 15, starttime 22, rss 24.
  const userTicks = Number(spaceField(text, close + 2, 11));
  const systemTicks = Number(spaceField(text, close + 2, 12));
  const startTicks = Number(spaceField(text, close + 2, 19));
  const rssPages = Number(spaceField(text, close + 2, 21));
  if (!(Number.isFinite(userTicks) && Number.isFinite(systemTicks) && Number.isFinite(startTicks) && Number.isFinite(rssPages)))
    return null;
  return { name: text.slice(open + 1, close), userTicks, systemTicks, startTicks, rssPages: Math.max(0, rssPages) };
}

/** Field `n` of `text` from `from`, fields parted by single spaces; undefined past the last one. */
function spaceField(text: string, from: number, n: number): string | undefined {
  let start = from;
  for (let i = 0; i < n; i++) {
    const space = text.indexOf(' ', start);
    if (space === -1) return undefined;
    start = space + 1;
  }
  if (start > text.length) return undefined;
  const end = text.indexOf(' ', start);
  return text.slice(start, end === -1 ? text.length : end);
}
