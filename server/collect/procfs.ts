import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A /proc or /sys file kept open and re-read from offset 0: one read syscall per sample, no open, no
 * promise, no process (docs/architecture.md: ~0.05 % of a core for the whole 1 Hz set).
 */
export class KeptOpenFile {
  private fd: number | null;
  private buffer = Buffer.alloc(16 * 1024);

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
  }

  read(): string {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    for (;;) {
      const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      // /proc files report no size; a full buffer may mean more is left, so grow and read again.
      if (length < this.buffer.length) return this.buffer.toString('latin1', 0, length);
      this.buffer = Buffer.alloc(this.buffer.length * 2);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
