import { describe, expect, it } from 'vitest';
import { encodeEvent, formatEventId, frameComment, frameEvent, frameRetry, parseEventId } from '../../server/stream/sse.js';

describe('SSE framing', () => {
  it('frames id, event and data in that order, ending with a blank line', () => {
    expect(frameEvent('cpu', '{"t":1}', 'abcd-7')).toBe('id: abcd-7\nevent: cpu\ndata: {"t":1}\n\n');
  });

  it('omits the id line when there is no id', () => {
    expect(frameEvent('hello', '{}')).toBe('event: hello\ndata: {}\n\n');
  });

  it('splits multi-line data into one data line per line, for every kind of line break', () => {
    expect(frameEvent('x', 'a\nb\r\nc\rd')).toBe('event: x\ndata: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('refuses CR, LF or NUL in the event name or id, so no field can be forged', () => {
    expect(() => frameEvent('cpu\ndata: evil', '{}')).toThrow(/must not contain/);
    expect(() => frameEvent('cpu', '{}', '1\r\nevent: alert')).toThrow(/must not contain/);
    expect(() => frameEvent('cpu', '{}', 'a\0b')).toThrow(/must not contain/);
  });

  it('encodes JSON payloads on one data line: line breaks inside strings are escaped by JSON', () => {
    const bytes = encodeEvent('alert', { message: 'line one\nline two\r\nevent: forged' }, 'boot1-1');
    const text = bytes.toString();
    expect(text.split('\n').filter((line) => line.startsWith('data: '))).toHaveLength(1);
    expect(text).not.toMatch(/^event: forged/m);
  });

  it('encodes the same bytes as framing the JSON, and refuses a forged event name or id alike', () => {
    const payloads = [{ t: 1, cores: [1.5, 0] }, { message: 'a\u2028b\rc\nd', nested: { list: ['x\r\ny'] } }, 'text', 42, null];
    for (const payload of payloads) {
      expect(encodeEvent('cpu', payload, 'boot1-7').toString()).toBe(frameEvent('cpu', JSON.stringify(payload), 'boot1-7'));
      expect(encodeEvent('cpu', payload).toString()).toBe(frameEvent('cpu', JSON.stringify(payload)));
    }
    expect(() => encodeEvent('cpu\ndata: evil', {})).toThrow(/must not contain/);
    expect(() => encodeEvent('cpu', {}, '1\r\nevent: alert')).toThrow(/must not contain/);
  });

  it('frames retry and comments', () => {
    expect(frameRetry(2000)).toBe('retry: 2000\n\n');
    expect(frameComment('ping')).toBe(': ping\n\n');
    expect(frameComment('a\nb')).toBe(': a b\n\n');
  });
});

describe('Last-Event-ID parsing', () => {
  it('round-trips a well-formed id', () => {
    expect(parseEventId(formatEventId('mkq1abcd', 42))).toEqual({ bootId: 'mkq1abcd', seq: 42 });
  });

  it.each([
    ['absent', undefined],
    ['null', null],
    ['empty', ''],
    ['no separator', 'abcdef'],
    ['no seq', 'abcd-'],
    ['negative seq', 'abcd--1'],
    ['fractional seq', 'abcd-1.5'],
    ['hex seq', 'abcd-0x10'],
    ['seq beyond safe integers', 'abcd-999999999999999999'],
    ['upper case boot id', 'ABCD-1'],
    ['short boot id', 'ab-1'],
    ['spaces inside', 'abcd - 1'],
    ['unicode', 'ábcd-1'],
    ['very long', `${'a'.repeat(100)}-1`],
    ['injection', 'abcd-1\nevent: x'],
    ['extra dash', 'ab-cd-1'],
  ])('treats a malformed id (%s) as absent', (_name, raw) => {
    expect(parseEventId(raw as string | null | undefined)).toBeNull();
  });
});
