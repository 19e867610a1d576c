import { closeSync, openSync } from 'node:fs';
import { readFromStart } from './procfs.js';

/**
 * A /sys or /proc file that may not exist (a controller not mounted, a kernel without PSI): opened on the
 * first read and kept open, re-read from offset 0 after that. Reads null when the file is missing,
 * unreadable, or gone since (a removed cgroup's files answer ENODEV).
 */
export class OptionalFile {
  private fd: number | null | undefined;
  /** The shared buffer's first bytes, as this file's last read returned them. */
  private view: Buffer | null = null;
  /**
   * One buffer for every file: reads are synchronous and decoded at once, and a buffer per file (hundreds
   * with 50 containers) spread the reads over memory the CPU cache has long lost by the next sample.
   */
  private static buffer = Buffer.alloc(16 * 1024);

  /** `keepOpen` false closes the file after each read (for files read once, or past a descriptor budget). */
  constructor(
    readonly path: string,
    private readonly keepOpen = true,
  ) {}

  read(): string | null {
    return this.bytes()?.toString('latin1') ?? null;
  }

  /** The file's bytes in a buffer shared by every OptionalFile: valid until the next read of any of them. */
  bytes(): Buffer | null {
    try {
      const wasOpen = typeof this.fd === 'number';
      const bytes = this.readOnce(false);
      // A descriptor kept from an earlier read answers ENODEV once its cgroup is removed; a cgroup made again at
      // the same path is read through a fresh one at once (a limit file is read once a minute: not a minute late).
      return bytes === null && wasOpen ? this.readOnce(true) : bytes;
    } finally {
      if (!this.keepOpen) this.close();
    }
  }

  private readOnce(reopening: boolean): Buffer | null {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch {
        // Kept open: missing for good (a controller that is not mounted). Opened per read, or gone since it was
        // open (a removed cgroup, which may be made again): try again next time.
        this.fd = this.keepOpen && !reopening ? null : undefined;
        return null;
      }
    }
    if (this.fd === null) return null;
    try {
      const { buffer, length } = readFromStart(this.fd, OptionalFile.buffer);
      OptionalFile.buffer = buffer;
      // The view of the last read again when the length is the same (most counters keep their width): a
      // sample reads hundreds of files, and a new view each was most of its garbage.
      if (this.view?.length !== length || this.view.buffer !== buffer.buffer) this.view = buffer.subarray(0, length);
      return this.view;
    } catch {
      // Gone since it was opened (ENODEV): open afresh, in case the cgroup was made again.
      this.close();
      this.fd = undefined;
      return null;
    }
  }

  close(): void {
    if (typeof this.fd === 'number') closeSync(this.fd);
    this.fd = this.keepOpen ? null : undefined;
  }
}
