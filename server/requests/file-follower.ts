import { closeSync, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';

/** Where a follower stands in a file, so that a restart reads no line twice. */
export interface FilePosition {
  dev: number;
  ino: number;
  /** Byte offset just after the last whole line read. */
  offset: number;
  /** The bytes just before `offset` (at most 32, base64): a file truncated and written again no longer has them. */
  before: string;
}

export interface FollowerOptions {
  /** Receives the text of whole lines (several, separated by `\n`, without the last one's `\n`). */
  onLines: (text: string) => void;
  /**
   * Where to begin: a position saved by an earlier run (used when it is still the same file), or, without
   * one, `end` (the lines already there are history, not traffic of now) or `start`.
   */
  resume: FilePosition | null;
  startAt: 'end' | 'start';
}

const CHUNK_BYTES = 1 << 20;
/**
 * Lines are decoded and passed on in pieces of about this many bytes. A string this small is made in V8's young
 * generation; a megabyte one goes to its large-object space, and cost 7× more per line to make and collect.
 */
const PIECE_BYTES = 64 * 1024;
const MAX_CHUNKS_PER_POLL = 16;
const FINGERPRINT_BYTES = 32;
/** A file renamed away is still read until it has not grown for this many polls (its writer may not have reopened yet). */
const RETIRED_QUIET_POLLS = 10;

interface OpenFile {
  fd: number;
  dev: number;
  ino: number;
  offset: number;
  /** The bytes before `offset` as they were read: other bytes there mean the file was truncated and rewritten. */
  before: Buffer;
  quietPolls: number;
}

/**
 * Follows one file by name, like `tail -F`, by polling (each `poll()` reads what was appended since the last):
 * - a file that does not exist yet is waited for, and read from its start when it appears;
 * - rotation by rename: when the name points to another file, the old one is read to its end (and for a
 *   few more polls, while its writer still has it open), then the new one from its start;
 * - rotation by copy and truncate: a file shorter than the offset, or whose bytes before the offset
 *   changed (truncated and written past the old offset between two polls), is read again from its start.
 * Only whole lines are delivered; a partial last line waits for its end.
 */
export class FileFollower {
  private current: OpenFile | null = null;
  private retired: OpenFile[] = [];
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private firstPoll = true;
  /** The last error other than a missing file (permissions), for the health line; null when reading. */
  problem: string | null = null;

  constructor(
    readonly path: string,
    private readonly options: FollowerOptions,
  ) {}

  poll(): void {
    if (this.current) this.readNew(this.current);
    for (const file of this.retired) {
      if (this.readNew(file) > 0) file.quietPolls = 0;
      else file.quietPolls++;
    }
    this.retired = this.retired.filter((file) => {
      if (file.quietPolls < RETIRED_QUIET_POLLS) return true;
      closeSync(file.fd);
      return false;
    });
    let stats: Stats;
    try {
      stats = statSync(this.path);
      this.problem = null;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Missing: not created yet, or renamed away and not yet replaced. Either way, wait for it.
      this.problem = code === 'ENOENT' ? null : `cannot read ${this.path} (${code ?? 'error'})`;
      this.firstPoll = false;
      return;
    }
    const firstPoll = this.firstPoll;
    this.firstPoll = false;
    if (this.current && this.current.dev === stats.dev && this.current.ino === stats.ino) return;
    if (this.current) this.retired.push(this.current);
    this.current = null;
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      this.problem = `cannot read ${this.path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
      return;
    }
    const opened = fstatSync(fd);
    const file: OpenFile = { fd, dev: opened.dev, ino: opened.ino, offset: 0, before: Buffer.alloc(0), quietPolls: 0 };
    if (firstPoll) {
      file.offset = this.startingOffset(file, opened.size);
      file.before = this.bytesBefore(file, file.offset);
    }
    this.current = file;
    this.readNew(file);
  }

  /** Where the current file has been read to, for the next run; null while there is no file. */
  position(): FilePosition | null {
    const file = this.current;
    if (!file) return null;
    return { dev: file.dev, ino: file.ino, offset: file.offset, before: file.before.toString('base64') };
  }

  close(): void {
    for (const file of [...this.retired, ...(this.current ? [this.current] : [])]) closeSync(file.fd);
    this.retired = [];
    this.current = null;
  }

  /** At the first poll of a run: the saved position when it is still this file, else the start or the end. */
  private startingOffset(file: OpenFile, size: number): number {
    const saved = this.options.resume;
    if (saved && saved.dev === file.dev && saved.ino === file.ino) {
      const unchanged = saved.offset <= size && this.bytesBefore(file, saved.offset).toString('base64') === saved.before;
      // Truncated (or replaced in place) while we were away: all of it is new.
      return unchanged ? saved.offset : 0;
    }
    // Another file under the name since the saved position: it was rotated while we were away, all of it is new.
    if (saved) return 0;
    return this.options.startAt === 'end' ? this.lastLineEnd(file, size) : 0;
  }

  /** Reads the whole lines appended since the offset; returns the bytes consumed. */
  private readNew(file: OpenFile): number {
    const size = fstatSync(file.fd).size;
    if (size < file.offset || (size > file.offset && !this.bytesBefore(file, file.offset).equals(file.before))) {
      file.offset = 0;
      file.before = Buffer.alloc(0);
    }
    let consumed = 0;
    for (let chunk = 0; chunk < MAX_CHUNKS_PER_POLL && file.offset < size; chunk++) {
      const read = readSync(file.fd, this.buffer, 0, Math.min(CHUNK_BYTES, size - file.offset), file.offset);
      if (read === 0) break;
      const end = this.buffer.lastIndexOf(0x0a, read - 1);
      if (end < 0) {
        // A line longer than a chunk: passed on as it is (it will not parse), so that reading goes on.
        if (read < CHUNK_BYTES) break;
        this.options.onLines(this.buffer.toString('utf8', 0, read));
        file.offset += read;
        consumed += read;
        continue;
      }
      this.passLines(end);
      file.offset += end + 1;
      consumed += end + 1;
    }
    if (consumed > 0) file.before = this.bytesBefore(file, file.offset);
    return consumed;
  }

  /** Passes on the whole lines of `buffer[0, end)` (`end` is the last line's `\n`), a piece of at most a few lines over `PIECE_BYTES` at a time. */
  private passLines(end: number): void {
    let start = 0;
    while (start < end) {
      let pieceEnd = end;
      if (end - start > PIECE_BYTES) {
        const cut = this.buffer.lastIndexOf(0x0a, start + PIECE_BYTES);
        // A line longer than a piece: it ends the piece.
        pieceEnd = cut > start ? cut : this.buffer.indexOf(0x0a, start + PIECE_BYTES);
        if (pieceEnd < 0 || pieceEnd > end) pieceEnd = end;
      }
      this.options.onLines(this.buffer.toString('utf8', start, pieceEnd));
      start = pieceEnd + 1;
    }
  }

  private bytesBefore(file: OpenFile, offset: number): Buffer {
    const length = Math.min(FINGERPRINT_BYTES, offset);
    const bytes = Buffer.alloc(length);
    readSync(file.fd, bytes, 0, length, offset - length);
    return bytes;
  }

  /** Just after the last `\n` before `size`: a line still being written is read once it is whole. */
  private lastLineEnd(file: OpenFile, size: number): number {
    const length = Math.min(CHUNK_BYTES, size);
    const read = readSync(file.fd, this.buffer, 0, length, size - length);
    const end = this.buffer.lastIndexOf(0x0a, read - 1);
    return end < 0 ? (size > CHUNK_BYTES ? size : 0) : size - length + end + 1;
  }
}
