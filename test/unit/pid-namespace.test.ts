import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sameProcessNumbering } from '../../server/collect/pid-namespace.js';
import { tempDir } from '../fixtures/cgroup-trees.js';

const root = tempDir('pulseboard-pid-ns-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A /proc that names the reader `pid` through its `self` link (what the kernel's /proc/self is). */
function procNaming(name: string, pid: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  symlinkSync(pid, join(dir, 'self'));
  return dir;
}

describe('sameProcessNumbering', () => {
  it("is true for this process's own /proc", () => {
    expect(sameProcessNumbering('/proc')).toBe(process.platform === 'linux' ? true : null);
  });

  it("is false where the given /proc numbers this process otherwise (the host's /proc in a container)", () => {
    expect(sameProcessNumbering(procNaming('host', '31422'), procNaming('container', '1'))).toBe(false);
    expect(sameProcessNumbering(procNaming('host-again', '31422'), procNaming('host-itself', '31422'))).toBe(true);
  });

  it('cannot say for a tree without self (a fixture), nor without an own /proc', () => {
    expect(sameProcessNumbering(join(root, 'missing'), procNaming('own', '7'))).toBeNull();
    expect(sameProcessNumbering(procNaming('given', '7'), join(root, 'no-proc'))).toBeNull();
  });
});
