import { describe, expect, it } from 'vitest';
import { parseSince, parseTopics } from '../../server/http/query.js';
import { growthOver8x, LINEAR_GROWTH_BOUND } from '../helpers/linear.js';

describe('query parsing', () => {
  const available = ['cpu', 'memory', 'disk'] as const;

  it('gives every available topic when topics is absent or empty', () => {
    expect(parseTopics(undefined, available)).toEqual({ ok: true, value: ['cpu', 'memory', 'disk'] });
    expect(parseTopics('', available)).toEqual({ ok: true, value: ['cpu', 'memory', 'disk'] });
  });

  it('keeps protocol order, drops duplicates, and quietly skips known topics the host lacks', () => {
    expect(parseTopics('disk,cpu,cpu,temperature', available)).toEqual({ ok: true, value: ['cpu', 'disk'] });
  });

  it('names the unknown topic and every valid one', () => {
    const result = parseTopics('cpu,gpu', available);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toContain('"gpu"');
      expect(result.error).toContain(
        'valid topics: cpu, memory, network, disk, filesystem, temperature, process, processes, containers, requests',
      );
    }
  });

  it('parses since as epoch ms or a duration back from now', () => {
    const now = 1_700_000_000_000;
    expect(parseSince(undefined, now)).toEqual({ ok: true, value: 0 });
    expect(parseSince('1699999999000', now)).toEqual({ ok: true, value: 1_699_999_999_000 });
    expect(parseSince('15m', now)).toEqual({ ok: true, value: now - 900_000 });
    expect(parseSince('yesterday', now).ok).toBe(false);
  });

  it('parses since in time linear in its length: `since=1` then 16 000 `+` (spaces) and an `x` is a quick 400', () => {
    const now = 1_700_000_000_000;
    const evil = (n: number) => `1${' '.repeat(n)}x`;
    expect(parseSince(evil(16_000), now).ok).toBe(false);
    expect(growthOver8x((text) => parseSince(text, now), evil)).toBeLessThan(LINEAR_GROWTH_BOUND);
  });
});
