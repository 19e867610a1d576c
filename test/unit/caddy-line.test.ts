import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAccessLine, parseAccessLineAt, parseCaddyWithJsonParse } from '../../server/requests/access-log-format.js';
import { readCaddyFields } from '../../server/requests/caddy-line.js';

/** Text with what JSON must escape or what looks like JSON's own punctuation, among ordinary characters. */
const tricky = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', '{', '}', '[', ']', ':', ',', '/', '?', '\u0000', '\n', '\t', '\u2028', 'é', '😀', '"status":', '\\"'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  ),
  maxLength: 40,
});
const uri = fc.oneof(
  fc.constantFrom('/', '/users/42?tab=posts', '/api/orders', 'http://example.com/a/b?c'),
  tricky.map((text) => `/${text}`),
  tricky,
);
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE'), tricky, fc.integer());
const status = fc.oneof(
  fc.constantFrom(0, 200, 204, 301, 404, 499, 503),
  fc.integer({ min: -10, max: 1000 }),
  fc.double(),
  fc.constant('200'),
  fc.constant(null),
);
const seconds = fc.oneof(
  fc.double({ min: 0, max: 120, noNaN: true }),
  fc.integer({ min: 0, max: 10 }),
  fc.constantFrom(0.000523, 0.25, 2.5, 1e-7, 1e21, -0.5, 0.1 + 0.2),
  fc.constant('fast'),
  fc.constant(null),
);
const size = fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(-1, '12', null));
/** Objects nested in a line, some with keys named like the fields read at the top level. */
const nested = fc.dictionary(
  fc.oneof(fc.constantFrom('status', 'duration', 'size', 'method', 'uri', 'request', 'User-Agent'), tricky),
  fc.oneof(tricky, fc.array(tricky, { maxLength: 2 }), fc.integer()),
  {
    maxKeys: 4,
  },
);

/** A Caddy line, its fields in any order, with the values given (absent ones are left out at times). */
function caddyLineOf(
  values: { method: fc.Arbitrary<unknown>; status: fc.Arbitrary<unknown>; duration: fc.Arbitrary<unknown>; size: fc.Arbitrary<unknown> },
  required: boolean,
) {
  const request = fc.record(
    {
      remote_ip: fc.constant('10.0.0.7'),
      method: values.method,
      host: tricky,
      uri,
      headers: nested,
      tls: fc.record({ resumed: fc.boolean(), proto: fc.constant('h2') }),
    },
    { requiredKeys: required ? ['method', 'uri'] : [] },
  );
  return fc
    .record(
      {
        level: fc.constantFrom('info', 'error'),
        ts: fc.double({ min: 1.7e9, max: 1.8e9, noNaN: true }),
        logger: fc.constant('http.log.access.log0'),
        msg: fc.constant('handled request'),
        request: required ? request : fc.oneof(request, fc.constant(null), fc.constant([{ method: 'GET', uri: '/' }])),
        bytes_read: fc.nat(),
        user_id: tricky,
        duration: values.duration,
        size: values.size,
        status: values.status,
        resp_headers: nested,
        extra: nested,
      },
      { requiredKeys: required ? ['request', 'duration', 'status'] : [] },
    )
    .chain((entry) => fc.shuffledSubarray(Object.entries(entry), { minLength: Object.keys(entry).length }))
    .map((entries) => JSON.stringify(Object.fromEntries(entries)));
}

const caddyLine = fc.oneof(
  caddyLineOf(
    {
      method: fc.constantFrom('GET', 'POST', 'DELETE'),
      status: fc.constantFrom(0, 200, 204, 301, 404, 499, 503),
      duration: fc.oneof(fc.double({ min: 0, max: 120, noNaN: true }), fc.constantFrom(0.000523, 0.25, 2.5, 1e-7, 0)),
      size: fc.nat(),
    },
    true,
  ),
  caddyLineOf({ method, status, duration: seconds, size }, false),
);

/** A line as Caddy writes it, or changed the ways a line can differ from what the fast path expects. */
const line = fc.oneof(
  { arbitrary: caddyLine, weight: 6 },
  // the same key twice (JSON.parse keeps the last one)
  fc
    .tuple(caddyLine, fc.constantFrom('"status":500', '"duration":9', '"size":1', '"request":{"method":"PUT","uri":"/x"}'))
    .map(([text, more]) => (text.length > 2 ? `${text.slice(0, -1)},${more}}` : text)),
  // a key written with an escape, which JSON.parse reads as the plain key
  caddyLine.map((text) => text.replace('"status":', '"st\\u0061tus":').replace('"uri":', '"\\u0075ri":')),
  // cut anywhere, or with something after the object
  fc.tuple(caddyLine, fc.nat()).map(([text, at]) => text.slice(0, at % (text.length + 1))),
  caddyLine.map((text) => `${text} {}`),
);

describe('Caddy access-log lines read without JSON.parse', () => {
  it('reads every line as JSON.parse does, escapes in the uri included, and leaves only other shapes to it (fast-check)', () => {
    let fast = 0;
    let fastWithEscapedUri = 0;
    fc.assert(
      fc.property(line, (text) => {
        // (A line cut before its brace is not read as Caddy's at all.)
        if (text.startsWith('{')) expect(parseAccessLine(text)).toEqual(parseCaddyWithJsonParse(text));
        const fields = readCaddyFields(text);
        if (fields !== null) {
          fast++;
          if (/"uri":"[^"]*\\/.test(text)) fastWithEscapedUri++;
        }
      }),
      { numRuns: 3000 },
    );
    // The fast path is the one taken for lines of Caddy's shape, not a path that gives up on everything.
    expect(fast).toBeGreaterThan(600);
    expect(fastWithEscapedUri).toBeGreaterThan(10);
  });

  it('reads a line in place in a chunk of lines as it reads the line alone, backslashes before, in and after it (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
        const text = lines.join('\n');
        let start = 0;
        for (const alone of lines) {
          const end = start + alone.length;
          const backslash = text.indexOf('\\', start);
          if (alone !== '')
            expect(parseAccessLineAt(text, start, end, backslash < 0 ? text.length : backslash)).toEqual(parseAccessLine(alone));
          start = end + 1;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads the five fields where Caddy writes them, whatever the nested objects hold', () => {
    const text =
      '{"level":"info","ts":1764130000.1234,"request":{"method":"GET","uri":"/a\\"b\\\\?q={\\"status\\":1}","headers":{"status":["7"],"uri":["/no"]}},"size":12,"duration":0.000523,"status":200,"resp_headers":{"status":["1"]}}';
    expect(readCaddyFields(text)).toEqual({ method: 'GET', uri: '/a"b\\?q={"status":1}', status: 200, duration: 0.000523, size: 12 });
    expect(readCaddyFields(text.replace('"size":12,', ''))).toEqual({
      method: 'GET',
      uri: '/a"b\\?q={"status":1}',
      status: 200,
      duration: 0.000523,
      size: undefined,
    });
  });

  it('leaves to JSON.parse a line with a field missing, repeated, of another type, or brackets not closed by their own kind', () => {
    const good = '{"request":{"method":"GET","uri":"/"},"duration":0.5,"size":1,"status":200}';
    expect(readCaddyFields(good)).not.toBeNull();
    for (const text of [
      '{"request":{"method":"GET","uri":"/"},"duration":0.5,"size":1}',
      '{"request":{"method":"GET"},"duration":0.5,"size":1,"status":200}',
      '{"request":{"method":"GET","uri":"/"},"duration":0.5,"size":1,"status":200,"status":500}',
      '{"request":{"method":"GET","uri":"/"},"duration":"0.5","size":1,"status":200}',
      '{"request":{"method":"GET","uri":"/"},"duration":0.5,"size":1,"status":2e2}'.replace('2e2', '02'),
      '{"request":{"method":"GET","uri":"/"},"duration":0.5,"size":1,"status":200',
      '{"request":{"method":"GET","uri":"/"},"duration":0.5,"size":1,"status":200}}',
      '{"request":{"method":"GET","uri":"/"],"duration":0.5,"size":1,"status":200}',
      '{"request":{"method":"GET","uri":"/","h":[1}},"duration":0.5,"size":1,"status":200}',
      '{"request":{"x":{"method":"GET","uri":"/"}},"duration":0.5,"size":1,"status":200}',
      '{"req":{"method":"GET","uri":"/"},"duration":0.5,"size":1,"status":200}',
    ])
      expect(readCaddyFields(text), text).toBeNull();
  });
});
