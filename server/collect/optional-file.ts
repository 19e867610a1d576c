import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A /sys or /proc file that may not exist (a controller not mounted, a kernel without PSI): opened on the
 * first read and kept open, re-read from offset 0 after that. Reads null when the file is missing,
 * unreadable, or gone since (a removed cgroup's files answer ENODEV).
 */
export class OptionalFile {
  private fd: number | null | undefined;
  private buffer = Buffer.alloc(4096);

  /** `keepOpen` false closes the file after each read (for files read once, or past a descriptor budget). */
  constructor(
    readonly path: string,
    private readonly keepOpen = true,
  ) {}

  read(): string | null {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch {
        this.fd = null;
      }
    }
    if (this.fd === null) return null;
    try {
      for (;;) {
        const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
        // These files report no size; a full buffer may mean more is left, so grow and read again.
        if (length < this.buffer.length) return this.buffer.toString('latin1', 0, length);
        this.buffer = Buffer.alloc(this.buffer.length * 2);
      }
    } catch {
      // Gone since it was opened (ENODEV): open afresh next time, in case the cgroup was made again.
      this.close();
      this.fd = undefined;
      return null;
    } finally {
      if (!this.keepOpen) this.close();
    }
  }

  close(): void {
    if (typeof this.fd === 'number') closeSync(this.fd);
    this.fd = this.keepOpen ? null : undefined;
  }
}
