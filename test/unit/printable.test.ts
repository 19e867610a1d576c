import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printable } from '../../server/lib/printable.js';

/** The definition, a character at a time. */
function reference(text: string, max: number): string {
  let line = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    line += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? '?' : char;
  }
  line = line.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

describe('printable: text from another process made safe to show', () => {
  it('control characters become ?, white space runs one space, cut at max with …', () => {
    expect(printable('a\tb\u0000c  d\u0085e\n', 100)).toBe('a?b?c d?e?');
    expect(printable('  java   -jar  app.jar ', 100)).toBe('java -jar app.jar');
    expect(printable('abcdef', 4)).toBe('abc…');
  });

  it('is the character-at-a-time definition, for any text (surrogates, lone ones included)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\u0000', '\u007f', '\u00a0', 'x', '\ud83d', '\ude00') }),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 40 }), (input, max) => {
        expect(printable(input, max)).toBe(reference(input, max));
      }),
      { numRuns: 500 },
    );
  });
});
