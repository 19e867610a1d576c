/**
 * Parsers for the cgroup v2 and v1 file formats, pure so they can be tested against fixtures copied from
 * real hosts. Every parser takes the file's text and returns numbers; a field the file lacks is 0 or null.
 */

/** Limits at or above this are "no limit": cgroup v1 writes PAGE_COUNTER_MAX pages (~2^63 bytes). */
const UNLIMITED_FROM = 2 ** 60;

/** One number (`memory.current`, `pids.current`, v1 `cpuacct.usage`); null when the file holds `max` or nothing. */
export function parseSingleValue(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  return Number(trimmed);
}

/** A memory limit (v2 `memory.max`: `max` or bytes; v1 `memory.limit_in_bytes`: a huge number when unlimited). */
export function parseMemoryLimit(text: string): number | null {
  const value = parseSingleValue(text);
  return value === null || value >= UNLIMITED_FROM ? null : value;
}

/** v2 `cpu.max` (`max 100000` or `50000 100000`): the quota in cores, null when unlimited. */
export function parseCpuMax(text: string): number | null {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || period === undefined || quota === 'max') return null;
  return cpuQuotaCores(Number(quota), Number(period));
}

/** v1 `cpu.cfs_quota_us` (-1 when unlimited) over `cpu.cfs_period_us`, in cores. */
export function cpuQuotaCores(quotaUs: number, periodUs: number): number | null {
  if (!Number.isFinite(quotaUs) || !Number.isFinite(periodUs) || quotaUs <= 0 || periodUs <= 0) return null;
  return quotaUs / periodUs;
}

export interface IoBytes {
  read: number;
  write: number;
}

/** v2 `io.stat`: `8:0 rbytes=1 wbytes=2 rios=3 ...` per device, summed. */
export function parseIoStat(text: string): IoBytes {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    for (const field of line.split(' ')) {
      if (field.startsWith('rbytes=')) read += Number(field.slice(7)) || 0;
      else if (field.startsWith('wbytes=')) write += Number(field.slice(7)) || 0;
    }
  }
  return { read, write };
}

/** v1 `blkio.throttle.io_service_bytes` (or `blkio.io_service_bytes`): `8:0 Read 123` per device, summed. */
export function parseBlkioServiceBytes(text: string): IoBytes {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const [device, operation, value] = line.split(' ');
    if (device === undefined || value === undefined || !device.includes(':')) continue;
    if (operation === 'Read') read += Number(value) || 0;
    else if (operation === 'Write') write += Number(value) || 0;
  }
  return { read, write };
}

/** A `*.pressure` file: the `some` line's `avg10`, percent of the last 10 s some task stalled. */
export function parsePressureSome(text: string): number | null {
  const match = /^some avg10=(\d+(?:\.\d+)?)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/*
 * Byte-level forms of the parsers above, for the files read for every container every sample: they read
 * the shared read buffer in place, without making a string of it (measured: half the collector's CPU).
 */

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const NEWLINE = 10;

/** The decimal number starting at `start`, or null when no digit is there (`max`). */
export function decimalAt(bytes: Uint8Array, start = 0): number | null {
  let value = 0;
  let i = start;
  for (; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte < DIGIT_0 || byte > DIGIT_9) break;
    value = value * 10 + (byte - DIGIT_0);
  }
  return i === start ? null : value;
}

/** The value of one `key value` line (memory.stat, cpu.stat), found without reading the other lines. */
export function keyValue(bytes: Buffer, key: string): number | null {
  const prefix = `${key} `;
  let at = bytes.indexOf(prefix, 0, 'latin1');
  // A match must start a line: `inactive_file` is not `total_inactive_file`.
  while (at > 0 && bytes[at - 1] !== NEWLINE) at = bytes.indexOf(prefix, at + 1, 'latin1');
  return at === -1 ? null : decimalAt(bytes, at + prefix.length);
}

/** `cgroup.procs`: how many processes, and the lowest pid (the container's first process), or null when empty. */
export function procsSummary(bytes: Uint8Array): { count: number; first: number | null } {
  let count = 0;
  let first: number | null = null;
  let lineStart = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== NEWLINE) continue;
    const pid = i > lineStart ? decimalAt(bytes, lineStart) : null;
    if (pid !== null) {
      count++;
      if (first === null || pid < first) first = pid;
    }
    lineStart = i + 1;
  }
  return { count, first };
}
