import { describe, expect, it } from 'vitest';
import { parseSince, parseTopics } from '../../server/http/query.js';

const available = ['cpu', 'memory', 'disk'] as const;

describe('?topics= edges', () => {
  it('treats blanks as absent, and skips empty names in a list', () => {
    expect(parseTopics('  ', available)).toEqual({ ok: true, value: ['cpu', 'memory', 'disk'] });
    expect(parseTopics(' disk , ,cpu ', available)).toEqual({ ok: true, value: ['cpu', 'disk'] });
    expect(parseTopics(',', available)).toEqual({ ok: true, value: [] });
  });

  it('names at most five unknown topics, each cut to 40 characters', () => {
    const result = parseTopics(['a', 'b', 'c', 'd', 'e', 'f', 'x'.repeat(50)].join(','), available);
    expect(result).toEqual({
      ok: false,
      error:
        'unknown topic "a", "b", "c", "d", "e"; valid topics: cpu, memory, network, disk, filesystem, temperature, process, processes, containers, requests',
    });
    const long = parseTopics('x'.repeat(50), available);
    expect(!long.ok && long.error).toContain(`"${'x'.repeat(40)}";`);
  });

  it('is case-sensitive: topic names are lower case', () => {
    expect(parseTopics('CPU', available).ok).toBe(false);
  });
});

describe('?since= edges', () => {
  const now = 1_700_000_000_000;

  it('reads 12 to 15 digits as ms since epoch, never later than now', () => {
    expect(parseSince('100000000000', now)).toEqual({ ok: true, value: 100_000_000_000 });
    expect(parseSince('999999999999999', now)).toEqual({ ok: true, value: now });
  });

  it('reads fewer digits as a duration in ms back from now', () => {
    expect(parseSince('99999999999', now)).toEqual({ ok: true, value: now - 99_999_999_999 });
    expect(parseSince('500', now)).toEqual({ ok: true, value: now - 500 });
  });

  it('reads 16 digits as a duration too (no date has them), and refuses what is not a duration', () => {
    expect(parseSince('1000000000000000', now)).toEqual({ ok: true, value: now - 1_000_000_000_000_000 });
    expect(parseSince('-5m', now)).toEqual({ ok: false, error: 'since must be ms since epoch or a duration such as 15m' });
  });

  it('treats an empty since as the whole history', () => {
    expect(parseSince('', now)).toEqual({ ok: true, value: 0 });
  });
});
