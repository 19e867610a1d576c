import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decimalAt,
  keyValue,
  parseBlkioServiceBytes,
  parseCpuMax,
  parseIoStat,
  parseMemoryLimit,
  parsePressureSome,
  procsSummary,
} from '../../server/collect/cgroup-parse.js';
import { OptionalFile } from '../../server/collect/optional-file.js';
import { ioStatV2, memoryStatV2, pressure, tempDir } from '../fixtures/cgroup-trees.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('cgroup file formats', () => {
  it('reads single values, and "max" or a v1 "no limit" as null', () => {
    expect(decimalAt(bytes('157286400\n'))).toBe(157286400);
    expect(decimalAt(bytes('max\n'))).toBeNull();
    expect(parseMemoryLimit('max\n')).toBeNull();
    expect(parseMemoryLimit('9223372036854771712\n')).toBeNull();
    expect(parseMemoryLimit('536870912\n')).toBe(536870912);
    expect(parseCpuMax('max 100000\n')).toBeNull();
    expect(parseCpuMax('150000 100000\n')).toBe(1.5);
  });

  it('finds a key only at the start of a line: inactive_file is not total_inactive_file', () => {
    const v1 = bytes('cache 1\ntotal_inactive_file 41943040\ninactive_file 10485760\n');
    expect(keyValue(v1, 'inactive_file')).toBe(10485760);
    expect(keyValue(v1, 'total_inactive_file')).toBe(41943040);
    expect(keyValue(bytes('total_inactive_file 5\n'), 'inactive_file')).toBeNull();
    expect(keyValue(bytes(memoryStatV2(4096)), 'inactive_file')).toBe(4096);
    expect(keyValue(bytes('usage_usec 8300710\nuser_usec 1\n'), 'usage_usec')).toBe(8300710);
  });

  it('counts the processes of cgroup.procs and finds the lowest pid', () => {
    expect(procsSummary(bytes('4250\n4242\n4300\n'))).toEqual({ count: 3, first: 4242 });
    expect(procsSummary(bytes(''))).toEqual({ count: 0, first: null });
    expect(procsSummary(bytes('17'))).toEqual({ count: 1, first: 17 });
  });

  it('sums I/O over devices (v2 io.stat, v1 blkio) and reads PSI avg10', () => {
    expect(parseIoStat(ioStatV2(1_000_000, 2_000_000))).toEqual({ read: 1_000_000, write: 2_000_000 });
    expect(parseBlkioServiceBytes('8:0 Read 10\n8:0 Write 20\n8:16 Read 1\n8:16 Write 2\n8:0 Total 33\nTotal 33\n')).toEqual({
      read: 11,
      write: 22,
    });
    expect(parsePressureSome(pressure(2.5))).toBe(2.5);
    expect(parsePressureSome('')).toBeNull();
  });

  it('reads PSI avg10 as the same number as its text, only from the "some" line', () => {
    for (const figure of ['0.00', '0.07', '1.5', '12.34', '99.99', '100.00', '7'])
      expect(parsePressureSome(`some avg10=${figure} avg60=0.80 avg300=0.20 total=1\n`)).toBe(Number(figure));
    expect(parsePressureSome('full avg10=4.00 avg60=0.00 avg300=0.00 total=0\n')).toBeNull();
    expect(parsePressureSome('full avg10=4.00 avg60=0 avg300=0 total=0\nsome avg10=0.25 avg60=0 avg300=0 total=0\n')).toBe(0.25);
    expect(parsePressureSome('some avg10=x\n')).toBeNull();
  });

  it('sums only the device lines of blkio, and only rbytes / wbytes of io.stat', () => {
    const blkio = '8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 30\nRead 999\nTotal 30\n';
    expect(parseBlkioServiceBytes(blkio)).toEqual({ read: 10, write: 20 });
    expect(parseBlkioServiceBytes('Total 0\n')).toEqual({ read: 0, write: 0 });
    expect(
      parseIoStat('8:0 rbytes=5 wbytes=6 rios=1 wios=1 dbytes=7 dios=0\n8:16 rbytes=1 wbytes=2 rios=9 wios=9 dbytes=0 dios=0\n'),
    ).toEqual({
      read: 6,
      write: 8,
    });
    expect(parseIoStat('')).toEqual({ read: 0, write: 0 });
  });
});

describe('a file read per open (cgroups past the kept-open budget)', () => {
  it('reads fresh contents each time, null while missing, and keeps no descriptor', () => {
    const path = join(tempDir('pulseboard-file-'), 'memory.current');
    const file = new OptionalFile(path, false);
    expect(file.read()).toBeNull();
    writeFileSync(path, '100\n');
    expect(file.read()).toBe('100\n');
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    writeFileSync(path, '200\n');
    expect(file.read()).toBe('200\n');
    expect(open()).toBe(before);
  });
});
