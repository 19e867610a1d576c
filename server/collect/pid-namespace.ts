import { readlinkSync } from 'node:fs';

/**
 * Whether `procRoot` numbers processes as this process's own pid namespace does. `cgroup.procs` lists a
 * cgroup's processes as the reader's pid namespace numbers them (and leaves out those it cannot see), so a
 * container given the host's /proc (`--procfs`) but not the host's pid namespace (`--pid host`) sees no
 * other container's processes and reads its own processes' command lines under the host's numbers.
 * `<proc>/self` names this process as that /proc's namespace numbers it. Null where either cannot say (not
 * Linux, a fixture tree without `self`).
 */
export function sameProcessNumbering(procRoot: string, ownProcRoot = '/proc'): boolean | null {
  const self = (root: string) => {
    try {
      return readlinkSync(`${root}/self`);
    } catch {
      return null;
    }
  };
  const [theirs, own] = [self(procRoot), self(ownProcRoot)];
  return theirs === null || own === null ? null : theirs === own;
}
