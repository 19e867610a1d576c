import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LoggedRequest, parseAccessLine } from '../../server/requests/access-log-format.js';

const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'access-logs', name), 'utf8')
    .split('\n')
    .filter((line) => line !== '');

const parsed = (line: string): LoggedRequest => {
  const result = parseAccessLine(line);
  if (!result.ok) throw new Error(`did not parse (${result.reason}): ${line}`);
  return result.request;
};

describe('access-log lines', () => {
  it('reads nginx combined + $request_time (seconds), grouping routes as the proxy does', () => {
    const line = '127.0.0.1 - - [26/Nov/2026:04:40:00 +0000] "GET /users/42?tab=posts HTTP/1.1" 200 612 "-" "curl/8.0.1" 0.003';
    expect(parsed(line)).toEqual({ route: 'GET /users/:id', statusClass: '2xx', ms: 3, bytes: 612 });
    // nginx writes 499 when the client closed the connection before the response: not a 4xx of the app.
    const gone = '127.0.0.1 - - [26/Nov/2026:04:40:00 +0000] "GET /slow HTTP/1.1" 499 0 "-" "curl/8.0.1" 1.250';
    expect(parsed(gone)).toEqual({ route: 'GET /slow', statusClass: 'aborted', ms: 1250, bytes: 0 });
    const absolute = '::1 - - [26/Nov/2026:04:40:00 +0000] "GET http://example.com/a/b?c HTTP/1.1" 301 0 "-" "-" 0.000';
    expect(parsed(absolute).route).toBe('GET /a/b');
  });

  it('reads the Apache fixture (combined + %D, microseconds)', () => {
    expect(fixture('apache.log').map(parsed)).toEqual([
      { route: 'GET /users/:id', statusClass: '2xx', ms: 1.234, bytes: 612 },
      { route: 'POST /api/orders', statusClass: '5xx', ms: 250, bytes: 0 },
      { route: 'GET /search', statusClass: '3xx', ms: 0.9, bytes: 0 },
      // A request line that is not one ("-": the client sent nothing before the timeout) still counts.
      { route: 'unmatched', statusClass: '4xx', ms: 20_000, bytes: 0 },
    ]);
  });

  it('reads the Caddy fixture (JSON, duration in seconds; status 0 when the client left)', () => {
    expect(fixture('caddy.log').map(parsed)).toEqual([
      { route: 'GET /users/:id', statusClass: '2xx', ms: 0.523, bytes: 12 },
      { route: 'POST /api/orders', statusClass: '5xx', ms: 250, bytes: 0 },
      { route: 'GET /missing/a/b/*', statusClass: '4xx', ms: 1, bytes: 9 },
      { route: 'GET /slow', statusClass: 'aborted', ms: 2500, bytes: 0 },
    ]);
  });

  it('gives a reason for every garbage line, and never throws', () => {
    const reasons = fixture('garbage.log').map((line) => {
      const result = parseAccessLine(line);
      expect(result.ok).toBe(false);
      return result.ok ? '' : result.reason;
    });
    expect(reasons).toEqual([
      'no quoted request line',
      'no request time at the end of the line (nginx: $request_time; Apache: %D)',
      'no HTTP status after the request line',
      'no request time at the end of the line (nginx: $request_time; Apache: %D)',
      'no request.method and request.uri (a Caddy access log?)',
      'no duration in seconds',
      'not valid JSON',
      'no quoted request line',
    ]);
    for (const line of [
      '',
      ' ',
      '"',
      '" ',
      'a "b" 200',
      '{',
      'null',
      '{"request":null}',
      '\u0000\u0001',
      'x "GET / HTTP/1.1" 200 1 "a" "b" 1.5.5',
    ])
      expect(parseAccessLine(line).ok).toBe(false);
  });

  it('never throws, and what it reads is a finite, non-negative request (fast-check: 5 000 lines)', () => {
    const good = [...fixture('apache.log'), ...fixture('caddy.log')];
    const line = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      // real lines cut, or with bytes changed
      fc.tuple(fc.constantFrom(...good), fc.nat(), fc.string({ maxLength: 5 })).map(([text, at, put]) => {
        const cut = at % (text.length + 1);
        return text.slice(0, cut) + put + text.slice(cut + put.length);
      }),
    );
    let runs = 0;
    fc.assert(
      fc.property(line, (text) => {
        runs++;
        const result = parseAccessLine(text);
        if (result.ok) {
          const { ms, bytes, route } = result.request;
          expect(Number.isFinite(ms) && ms >= 0 && Number.isFinite(bytes) && bytes >= 0 && route.length > 0).toBe(true);
        } else expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 5000 },
    );
    console.log(`access-log lines fuzzed: ${runs}`);
  });
});
