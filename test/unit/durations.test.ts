import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../server/lib/duration.js';

describe('durations', () => {
  it.each([
    ['0', 0],
    ['1ms', 1],
    ['1s', 1000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 5 s ', 5000],
    ['0.5s', 500],
    ['1.0005s', 1001],
    ['2.25m', 135_000],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['s', '5 x', '5sec', '5S', '.5s', '5.s', '5ms5', 'x5s', '+5s', `${'9'.repeat(400)}d`])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it.each([
    [86_400_000, '1d'],
    [172_800_000, '2d'],
    [3_600_000, '1h'],
    [90_000_000, '25h'],
    [60_000, '1m'],
    [90_000, '90s'],
    [1000, '1s'],
    [1500, '1500ms'],
    [10, '10ms'],
    [0, '0ms'],
  ])('writes %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
