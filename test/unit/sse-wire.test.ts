import { describe, expect, it } from 'vitest';
import { frameComment, frameEvent, frameRetry, HEARTBEAT, isBootId, parseEventId } from '../../server/stream/sse.js';

describe('SSE wire details', () => {
  it('sends the retry delay as whole, non-negative milliseconds', () => {
    expect(frameRetry(1500.9)).toBe('retry: 1500\n\n');
    expect(frameRetry(-20)).toBe('retry: 0\n\n');
    expect(frameRetry(0)).toBe('retry: 0\n\n');
  });

  it('folds every run of line breaks in a comment into one space, so a comment stays one line', () => {
    expect(frameComment('a\r\n\nb\rc')).toBe(': a b c\n\n');
    expect(HEARTBEAT.toString()).toBe(': ping\n\n');
  });

  it('reads an id of up to 64 characters, and none longer', () => {
    const bootId = 'a'.repeat(32);
    const longest = `${bootId}-${'1'.repeat(15)}`; // 48 characters: the longest well-formed id
    expect(parseEventId(longest)).toEqual({ bootId, seq: 111_111_111_111_111 });
    expect(parseEventId(`${longest}${' '.repeat(16)}`)).toEqual({ bootId, seq: 111_111_111_111_111 }); // 64
    expect(parseEventId(`${longest}${' '.repeat(17)}`)).toBeNull(); // 65
  });

  it('ignores spaces around an id', () => {
    expect(parseEventId('  abcd-7 ')).toEqual({ bootId: 'abcd', seq: 7 });
  });

  it('takes boot ids of 4 to 32 lower-case letters and digits', () => {
    expect(isBootId('abcd')).toBe(true);
    expect(isBootId('mifb3x2k9f1c2a0b')).toBe(true);
    expect(isBootId('a'.repeat(32))).toBe(true);
    expect(isBootId('abc')).toBe(false);
    expect(isBootId('a'.repeat(33))).toBe(false);
    expect(isBootId('ABCD')).toBe(false);
    expect(isBootId('ab-cd')).toBe(false);
    expect(isBootId(' abcd')).toBe(false);
  });
});

describe('SSE field checks', () => {
  it('names the field that would break the frame', () => {
    expect(() => frameEvent('cpu\n', '{}')).toThrow('SSE event name must not contain CR, LF or NUL');
    expect(() => frameEvent('cpu', '{}', 'a\rb')).toThrow('SSE id must not contain CR, LF or NUL');
  });
});
