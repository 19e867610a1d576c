import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toSixDigits } from '../../server/history/six-digits.js';

const byText = (value: number) => Number(value.toPrecision(6));

describe('six significant digits', () => {
  it('is exactly what toPrecision(6) parsed back gives, for any double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (value) => {
        expect(Object.is(toSixDigits(value), byText(value) === 0 ? 0 : byText(value))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees on halves, powers of ten, values that round up to a seventh digit, and the magnitudes of samples', () => {
    const values = [0.5, 1.5, 123456.5, -123456.5, 0.1234565, 999999.5, 9999995, 999999.4, 1e-7, 1e21, 1e22, 1e23, 1e-300, 5e-324];
    for (const value of values) expect(toSixDigits(value)).toBe(byText(value));
    for (let i = 0; i < 20_000; i++) {
      const value = ((i * 7919) % 10_007) / 13 + i / 7; // percentages, rates, bytes of a few digits and fractions
      expect(toSixDigits(value)).toBe(byText(value));
      expect(toSixDigits(value * 1e6)).toBe(byText(value * 1e6));
    }
  });
});
