import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

/**
 * One writer per data directory: a file holding the writer's pid and a random token. A lock whose pid
 * is no longer running (the writer was killed) is taken over; a live one is refused.
 */
export class DirectoryLock {
  private readonly token = randomBytes(8).toString('hex');
  private held = false;

  constructor(readonly path: string) {}

  /** null when taken; otherwise why not. Throws the file system's error (not writable, ...). */
  acquire(): string | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.path, `${process.pid} ${this.token}\n`, { flag: 'wx' });
        this.held = true;
        return null;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const [pidText] = readFileSync(this.path, 'utf8').trim().split(' ');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
        return pid === process.pid ? 'another store of this process writes to it' : `another pulseboard (pid ${pid}) writes to it`;
      }
      unlinkSync(this.path);
    }
    return 'its lock file keeps coming back';
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      const [, token] = readFileSync(this.path, 'utf8').trim().split(' ');
      if (token === this.token) unlinkSync(this.path);
    } catch {}
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
