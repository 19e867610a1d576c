/**
 * Parsers for the cgroup v2 and v1 file formats, pure so they can be tested against fixtures copied from
 * real hosts. Each takes the file's text or bytes and returns numbers; a field the file lacks is 0 or null.
 */

/** Limits at or above this are "no limit": cgroup v1 writes PAGE_COUNTER_MAX pages (~2^63 bytes). */
const UNLIMITED_FROM = 2 ** 60;

/** A memory limit (v2 `memory.max`: `max` or bytes; v1 `memory.limit_in_bytes`: a huge number when unlimited). */
export function parseMemoryLimit(text: string): number | null {
  return memoryLimitOf(Buffer.from(text, 'latin1'));
}

/** v2 `cpu.max` (`max 100000` or `50000 100000`): the quota in cores, null when unlimited. */
export function parseCpuMax(text: string): number | null {
  return cpuMaxCores(Buffer.from(text, 'latin1'));
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
  const bytes = Buffer.from(text, 'latin1');
  return { read: ioStatSum(bytes, 'rbytes'), write: ioStatSum(bytes, 'wbytes') };
}

/** v1 `blkio.throttle.io_service_bytes` (or `blkio.io_service_bytes`): `8:0 Read 123` per device, summed. */
export function parseBlkioServiceBytes(text: string): IoBytes {
  const bytes = Buffer.from(text, 'latin1');
  return { read: blkioSum(bytes, 'Read'), write: blkioSum(bytes, 'Write') };
}

/** A `*.pressure` file: the `some` line's `avg10`, percent of the last 10 s some task stalled. */
export function parsePressureSome(text: string): number | null {
  return pressureSomeAvg10(Buffer.from(text, 'latin1'));
}

/*
 * Byte-level parsers, for the files read for every busy container every sample: they read the shared read
 * buffer in place, without making a string of it (measured: half the collector's CPU). The text forms of
 * `io.stat`, `blkio` and `*.pressure` above are these, run on a string.
 */

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const NEWLINE = 10;
const SPACE = 32;
const COLON = 58;
const DOT = 46;

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

/** v2 `io.stat`: one field (`rbytes`, `wbytes`) summed over the devices; a field that is not a number counts 0. */
export function ioStatSum(bytes: Buffer, field: string): number {
  const prefix = ` ${field}=`;
  let sum = 0;
  for (let at = bytes.indexOf(prefix, 0, 'latin1'); at !== -1; at = bytes.indexOf(prefix, at + 1, 'latin1')) {
    sum += decimalAt(bytes, at + prefix.length) ?? 0;
  }
  return sum;
}

/**
 * v1 `blkio.throttle.io_service_bytes`: one operation (`Read`, `Write`) summed over the devices, from the
 * `<major>:<minor> <operation> <bytes>` lines only (the last line, `Total <bytes>`, names no device).
 */
export function blkioSum(bytes: Buffer, operation: string): number {
  const infix = ` ${operation} `;
  let sum = 0;
  for (let at = bytes.indexOf(infix, 0, 'latin1'); at !== -1; at = bytes.indexOf(infix, at + 1, 'latin1')) {
    if (isDeviceBefore(bytes, at)) sum += decimalAt(bytes, at + infix.length) ?? 0;
  }
  return sum;
}

/** Whether the line's text before `end` is one `<major>:<minor>` field. */
function isDeviceBefore(bytes: Buffer, end: number): boolean {
  let colon = false;
  let i = end - 1;
  for (; i >= 0 && bytes[i] !== NEWLINE; i--) {
    if (bytes[i] === SPACE) return false;
    if (bytes[i] === COLON) colon = true;
  }
  return colon && i + 1 < end;
}

/** A `*.pressure` file's `some avg10=` figure (`some avg10=1.50 avg60=...`), or null without a `some` line. */
export function pressureSomeAvg10(bytes: Buffer): number | null {
  const prefix = 'some avg10=';
  let at = bytes.indexOf(prefix, 0, 'latin1');
  while (at > 0 && bytes[at - 1] !== NEWLINE) at = bytes.indexOf(prefix, at + 1, 'latin1');
  if (at === -1) return null;
  const start = at + prefix.length;
  const whole = decimalAt(bytes, start);
  if (whole === null) return null;
  const dot = start + decimalDigits(bytes, start);
  if (bytes[dot] !== DOT) return whole;
  const digits = decimalDigits(bytes, dot + 1);
  if (digits === 0) return whole;
  // One division of two exact integers: the same double as Number('1.50').
  return (whole * 10 ** digits + (decimalAt(bytes, dot + 1) as number)) / 10 ** digits;
}

/** The byte form of parseMemoryLimit. */
export function memoryLimitOf(bytes: Uint8Array): number | null {
  const value = decimalAt(bytes);
  return value === null || value >= UNLIMITED_FROM ? null : value;
}

/** The byte form of parseCpuMax. */
export function cpuMaxCores(bytes: Uint8Array): number | null {
  const quota = decimalAt(bytes);
  const space = bytes.indexOf(SPACE);
  if (quota === null || space === -1) return null;
  return cpuQuotaCores(quota, decimalAt(bytes, space + 1) ?? 0);
}

function decimalDigits(bytes: Uint8Array, start: number): number {
  let i = start;
  while (i < bytes.length && (bytes[i] as number) >= DIGIT_0 && (bytes[i] as number) <= DIGIT_9) i++;
  return i - start;
}
