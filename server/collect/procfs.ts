import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reads an open file from offset 0 into `buffer`. /proc and /sys files report no size, so a full buffer may
 * mean more is left: it is replaced by one twice as large and read again. Returns the buffer the bytes are in.
 */
export function readFromStart(fd: number, buffer: Buffer<ArrayBuffer>): { buffer: Buffer<ArrayBuffer>; length: number } {
  for (;;) {
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    if (length < buffer.length) return { buffer, length };
    buffer = Buffer.alloc(buffer.length * 2);
  }
}

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
    const { buffer, length } = readFromStart(this.fd, this.buffer);
    this.buffer = buffer;
    return buffer.toString('latin1', 0, length);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
