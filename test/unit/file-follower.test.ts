import {
  appendFileSync,
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileFollower, type FilePosition } from '../../server/requests/file-follower.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pulseboard-follow-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A follower of `name` in the test directory and the lines it has delivered. */
function follow(name: string, resume: FilePosition | null = null, startAt: 'end' | 'start' = 'end') {
  const lines: string[] = [];
  const follower = new FileFollower(join(dir, name), { onLines: (text) => lines.push(...text.split('\n')), resume, startAt });
  return { follower, lines };
}

const numbered = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);
const append = (path: string, from: number, to: number) =>
  appendFileSync(
    path,
    numbered(from, to)
      .map((l) => `${l}\n`)
      .join(''),
  );

describe('following a log like tail -F', () => {
  it('starts at the end of a file already there, then reads what is appended; a partial line waits for its end', () => {
    const path = join(dir, 'access.log');
    append(path, 0, 5);
    const { follower, lines } = follow('access.log');
    follower.poll();
    expect(lines).toEqual([]);
    append(path, 5, 8);
    appendFileSync(path, 'line 8 hal');
    follower.poll();
    expect(lines).toEqual(numbered(5, 8));
    appendFileSync(path, 'f\n');
    follower.poll();
    expect(lines).toEqual([...numbered(5, 8), 'line 8 half']);
    follower.close();
  });

  it('waits for a file that does not exist yet, and reads it from its start when it appears', () => {
    const { follower, lines } = follow('later.log');
    follower.poll();
    expect(follower.problem).toBeNull();
    append(join(dir, 'later.log'), 0, 3);
    follower.poll();
    expect(lines).toEqual(numbered(0, 3));
    follower.close();
  });

  it('rotation by rename: reads the old file to its end (also what its writer adds before reopening), then the new one', () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, '');
    const { follower, lines } = follow('access.log');
    follower.poll();
    const writer = openSync(path, 'a');
    writeSync(
      writer,
      numbered(0, 10)
        .map((l) => `${l}\n`)
        .join(''),
    );
    renameSync(path, join(dir, 'access.log.1'));
    writeSync(writer, 'line 10\n'); // the server still writes to the renamed file
    follower.poll(); // the name is missing for now: the old file is read on
    writeSync(writer, 'line 11\n');
    append(path, 14, 16); // the server reopened: a new file under the name ...
    follower.poll();
    writeSync(writer, 'line 12\n'); // ... while one of its workers had not yet
    follower.poll();
    writeSync(writer, 'line 13\n');
    follower.poll();
    closeSync(writer);
    append(path, 16, 18);
    for (let i = 0; i < 12; i++) follower.poll();
    expect([...lines].sort()).toEqual(numbered(0, 18).sort());
    follower.close();
  });

  it('rotation by copy and truncate: reads the file again from its start, also when it grew past the old offset between two polls', () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, '');
    const { follower, lines } = follow('access.log');
    follower.poll();
    append(path, 0, 3);
    follower.poll();
    copyFileSync(path, join(dir, 'access.log.1'));
    truncateSync(path, 0);
    append(path, 3, 4); // shorter than before
    follower.poll();
    expect(lines).toEqual(numbered(0, 4));
    copyFileSync(path, join(dir, 'access.log.1'));
    truncateSync(path, 0);
    append(path, 100, 110); // longer than before: only the bytes before the offset tell
    follower.poll();
    expect(lines).toEqual([...numbered(0, 4), ...numbered(100, 110)]);
    follower.close();
  });

  it('passes a large read on in pieces of whole lines of about 64 KiB: every line once, in order, multi-byte characters and a longer line whole', () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, '');
    const texts: string[] = [];
    const follower = new FileFollower(path, { onLines: (text) => texts.push(text), resume: null, startAt: 'end' });
    follower.poll();
    const expected: string[] = [];
    for (let i = 0; i < 30_000; i++)
      expected.push(i % 7 === 0 ? `line ${i} café 日本 ${'é'.repeat(i % 50)}` : `line ${i} ${'x'.repeat(i % 90)}`);
    expected.splice(12_345, 0, `long ${'y'.repeat(100_000)}`);
    appendFileSync(path, expected.map((l) => `${l}\n`).join(''));
    follower.poll();
    follower.close();
    expect(texts.flatMap((text) => text.split('\n'))).toEqual(expected);
    // 1.8 MB of lines: two reads of up to 1 MiB, each passed on in pieces, none much over 64 KiB but for the long line.
    expect(texts.length).toBeGreaterThan(20);
    for (const text of texts) {
      if (!text.includes('y'.repeat(100_000))) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64 * 1024 + 200);
    }
  });

  it('after a restart, resumes at the saved position: no line twice, none lost', () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, '');
    const first = follow('access.log');
    first.follower.poll();
    append(path, 0, 5);
    first.follower.poll();
    const saved = first.follower.position();
    first.follower.close();
    append(path, 5, 9); // written while we were down
    const second = follow('access.log', saved);
    second.follower.poll();
    expect([...first.lines, ...second.lines]).toEqual(numbered(0, 9));
    second.follower.close();
  });

  it('after a restart, reads from the start a log that was truncated or rotated while we were down', () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, '');
    const first = follow('access.log');
    first.follower.poll();
    append(path, 0, 5);
    first.follower.poll();
    const saved = first.follower.position() as FilePosition;
    first.follower.close();
    truncateSync(path, 0);
    append(path, 50, 60); // longer than the saved offset, other bytes before it
    const truncated = follow('access.log', saved);
    truncated.follower.poll();
    expect(truncated.lines).toEqual(numbered(50, 60));
    truncated.follower.close();
    renameSync(path, join(dir, 'access.log.1'));
    append(path, 70, 72);
    const rotated = follow('access.log', saved);
    rotated.follower.poll();
    expect(rotated.lines).toEqual(numbered(70, 72));
    rotated.follower.close();
  });
});
