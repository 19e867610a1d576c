import { METHODS } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNKED_INVALID, CHUNKED_MORE, ChunkedBody } from '../../server/requests/chunked-body.js';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from '../../server/requests/http-head.js';
import { originFormTarget } from '../../server/requests/proxy-headers.js';

/**
 * The raw proxy's head parser against Node's own llhttp (the parser of every `node:http` server): on
 * well-formed heads (requests and responses) they agree; on the shapes that let two parsers disagree about where a message ends
 * (request smuggling) ours refuses. And the chunked framing finds the end of any valid body however it is cut.
 */

interface LlhttpHead {
  method: string;
  url: string;
  headers: string[];
  status: number;
}

type Parser = {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  [key: number]: unknown;
};
type ParserClass = { new (): Parser; REQUEST: number; RESPONSE: number; kOnHeadersComplete: number; kOnHeaders: number; kOnBody: number };
interface ParserBinding {
  HTTPParser: ParserClass;
  /** Method names by llhttp's method number. */
  allMethods: string[];
}

/** llhttp as Node's HTTP server runs it (strict, no lenient flags); the binding's deprecation notice is kept quiet. */
function llhttpBinding(): ParserBinding {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    return (process as unknown as { binding(name: string): ParserBinding }).binding('http_parser');
  } finally {
    process.noDeprecation = quiet;
  }
}
const { HTTPParser, allMethods } = llhttpBinding();

/** What llhttp makes of a head (its final empty line added), or its error code. */
function llhttpParse(type: number, head: string): LlhttpHead | string {
  const parser = new HTTPParser();
  let seen: LlhttpHead | null = null;
  parser[HTTPParser.kOnHeaders] = () => {};
  parser[HTTPParser.kOnBody] = () => {};
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    headers: string[],
    method: number,
    url: string,
    status: number,
  ) => {
    seen = { method: allMethods[method] as string, url, headers, status };
    return 1; // no body: the head is all that is compared
  };
  parser.initialize(type, {}, 0, 0);
  const result = parser.execute(Buffer.from(`${head}\r\n\r\n`, 'latin1'));
  if (result instanceof Error) return (result as Error & { code: string }).code;
  return seen ?? 'incomplete';
}
const llhttp = (head: string) => llhttpParse(HTTPParser.REQUEST, head);

const TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 12 });
const visible = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
/** A field value: visible characters with single inner spaces, no surrounding whitespace. */
const fieldValue = fc
  .array(fc.string({ unit: visible, minLength: 1, maxLength: 8 }), { minLength: 0, maxLength: 4 })
  .map((words) => words.join(' '));
/** Names with a meaning for framing or hops are left to the targeted tests below. */
const SPECIAL = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade']);
const plainHeader = fc.tuple(token, fieldValue).filter(([name]) => !SPECIAL.has(name.toLowerCase()));
const path = fc
  .array(fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~%!$&()*+,;=:@'), maxLength: 6 }), { maxLength: 4 })
  .map((parts) => `/${parts.join('/')}`);
const query = fc.option(fc.string({ unit: fc.constantFrom(...'abc=&?/019%'), maxLength: 10 }), { nil: undefined });
const method = fc.constantFrom(...METHODS.filter((name) => name !== 'CONNECT' && name !== 'PRI'));

const wellFormedHead = fc
  .record({
    method,
    path,
    query,
    minor: fc.constantFrom(0, 1),
    host: fc.constantFrom('app.example', 'app.example:8080', '127.0.0.1:3000'),
    headers: fc.array(plainHeader, { maxLength: 8 }),
    length: fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
    pad: fc.constantFrom('', ' ', '\t', '  '),
  })
  .map(({ method, path, query, minor, host, headers, length, pad }) => {
    const target = query === undefined ? path : `${path}?${query}`;
    const lines = [`${method} ${target} HTTP/1.${minor}`, `Host:${pad}${host}`];
    for (const [name, value] of headers) lines.push(`${name}:${pad}${value}${pad}`);
    if (length !== undefined) lines.push(`Content-Length: ${length}`);
    return lines.join('\r\n');
  });

describe('parseRequestHead', () => {
  it('agrees with llhttp on well-formed heads: method, target, every header and its value', () => {
    fc.assert(
      fc.property(wellFormedHead, (head) => {
        const ours = parseRequestHead(head);
        const theirs = llhttp(head);
        expect(typeof theirs).toBe('object');
        expect(typeof ours).toBe('object');
        const request = ours as RequestHead;
        const reference = theirs as LlhttpHead;
        expect(request.method).toBe(reference.method);
        expect(request.target).toBe(reference.url);
        const theirHeaders = reference.headers.map((text, i) => (i % 2 === 0 ? text.toLowerCase() : text.trim()));
        expect(request.headers).toEqual(theirHeaders);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws, and refuses whatever llhttp refuses, on random and mutated heads (the target checked as the proxy does)', () => {
    const mutated = fc
      .tuple(wellFormedHead, fc.nat(), fc.constantFrom('\r', '\n', '\0', ' ', '\t', ':', '\x7f', '\r\n ', '\r\n\t', 'é', '"'))
      .map(([head, at, insert]) => head.slice(0, at % (head.length + 1)) + insert + head.slice(at % (head.length + 1)));
    const random = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 200 });
    fc.assert(
      fc.property(fc.oneof(mutated, random), (head) => {
        const ours = parseRequestHead(head);
        // A head cut at its first empty line is all the proxy ever passes; so is the comparison.
        if (head.includes('\r\n\r\n') || typeof llhttp(head) !== 'string') return;
        // Refused by the parser, or by the proxy for a target that is neither a path nor an absolute URL.
        expect(typeof ours === 'string' || originFormTarget(ours.method, ours.target) === null, head).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  const base = 'POST /orders HTTP/1.1\r\nHost: app.example';
  it.each([
    ['Content-Length and Transfer-Encoding both', `${base}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked`],
    ['Transfer-Encoding and Content-Length both', `${base}\r\nTransfer-Encoding: chunked\r\nContent-Length: 5`],
    ['two differing Content-Lengths', `${base}\r\nContent-Length: 5\r\nContent-Length: 6`],
    ['two equal Content-Lengths (llhttp refuses them too)', `${base}\r\nContent-Length: 5\r\nContent-Length: 5`],
    ['a Content-Length list', `${base}\r\nContent-Length: 5, 5`],
    ['a signed Content-Length', `${base}\r\nContent-Length: +5`],
    ['a hexadecimal Content-Length', `${base}\r\nContent-Length: 0x5`],
    ['an empty Content-Length', `${base}\r\nContent-Length: `],
    ['a Content-Length past 2^53', `${base}\r\nContent-Length: 99999999999999999`],
    ['a Transfer-Encoding other than chunked', `${base}\r\nTransfer-Encoding: gzip, chunked`],
    ['a Transfer-Encoding with chunked not last', `${base}\r\nTransfer-Encoding: chunked, identity`],
    ['two Transfer-Encodings', `${base}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked`],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked'],
    ['obs-fold', `${base}\r\nX-Long: one\r\n two`],
    ['obs-fold with a tab', `${base}\r\nX-Long: one\r\n\ttwo`],
    ['a bare LF inside a value', `${base}\r\nX-A: one\ntwo`],
    ['a bare CR inside a value', `${base}\r\nX-A: one\rtwo`],
    ['a bare LF ending a line', `${base}\nContent-Length: 5`],
    ['a NUL in a value', `${base}\r\nX-A: one\0two`],
    ['whitespace before the colon', `${base}\r\nContent-Length : 5`],
    ['a header line without a colon', `${base}\r\nContent-Length 5`],
    ['an empty header name', `${base}\r\n: 5`],
    ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\nAccept: */*'],
    ['two Hosts', `${base}\r\nHost: other.example`],
    ['an unknown version', 'GET / HTTP/1.2\r\nHost: a'],
    ['HTTP/2 in a request line', 'GET / HTTP/2.0\r\nHost: a'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: a'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: a'],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\nHost: a'],
  ])('refuses %s', (_what, head) => {
    expect(typeof parseRequestHead(head)).toBe('string');
  });

  it('reads the framing and the connection tokens', () => {
    const chunked = parseRequestHead(`${'POST / HTTP/1.1\r\nHost: a'}\r\nTransfer-Encoding:  Chunked \r\nConnection: keep-alive, X-Hop`);
    expect(chunked).toMatchObject({ chunked: true, contentLength: -1, connection: ['keep-alive', 'x-hop'], host: 'a' });
    expect(parseRequestHead('POST / HTTP/1.0\r\nContent-Length: 007')).toMatchObject({ contentLength: 7, minorVersion: 0, host: null });
    expect(parseRequestHead('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket')).toMatchObject({
      upgrade: 'websocket',
      connection: ['upgrade'],
    });
  });
});

const wellFormedResponse = fc
  .record({
    status: fc.integer({ min: 200, max: 599 }),
    reason: fc.constantFrom('', ' OK', ' Not Found', ' Whatever it says'),
    headers: fc.array(plainHeader, { maxLength: 8 }),
    length: fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
    pad: fc.constantFrom('', ' ', '\t'),
  })
  .map(({ status, reason, headers, length, pad }) => {
    const lines = [`HTTP/1.1 ${status}${reason}`];
    for (const [name, value] of headers) lines.push(`${name}:${pad}${value}${pad}`);
    if (length !== undefined) lines.push(`Content-Length: ${length}`);
    return lines.join('\r\n');
  });

describe('parseResponseHead', () => {
  it('agrees with llhttp on well-formed response heads, and refuses what it refuses on mutated ones', () => {
    fc.assert(
      fc.property(wellFormedResponse, (head) => {
        const ours = parseResponseHead(head);
        const theirs = llhttpParse(HTTPParser.RESPONSE, head);
        expect(typeof ours).toBe('object');
        expect(typeof theirs).toBe('object');
        expect((ours as ResponseHead).status).toBe((theirs as LlhttpHead).status);
        const theirHeaders = (theirs as LlhttpHead).headers.map((text, i) => (i % 2 === 0 ? text.toLowerCase() : text.trim()));
        expect((ours as ResponseHead).headers).toEqual(theirHeaders);
      }),
      { numRuns: 200 },
    );
    const mutated = fc
      .tuple(wellFormedResponse, fc.nat(), fc.constantFrom('\r', '\n', '\0', ' ', '\t', ':', '\x7f', '\r\n ', 'é', 'x'))
      .map(([head, at, insert]) => head.slice(0, at % (head.length + 1)) + insert + head.slice(at % (head.length + 1)));
    fc.assert(
      fc.property(mutated, (head) => {
        if (head.includes('\r\n\r\n') || typeof llhttpParse(HTTPParser.RESPONSE, head) !== 'string') return;
        expect(typeof parseResponseHead(head), head).toBe('string');
      }),
      { numRuns: 400 },
    );
  });

  it('reads status, framing and connection; refuses the smuggling shapes and malformed status lines', () => {
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close')).toMatchObject({
      status: 200,
      contentLength: 12,
      connection: ['close'],
    });
    expect(parseResponseHead('HTTP/1.1 204')).toMatchObject({ status: 204, contentLength: -1, chunked: false });
    for (const bad of [
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2',
      'HTTP/1.1 200 OK\r\nX: a\r\n b',
      'HTTP/1.1 20 OK',
      'HTTP/1.1 2000 OK',
      'HTTP/1.1 200OK',
      'HTTP/1.1 099 Low',
      'HTTP/1.1 200 O\rK',
      'HTTP/3 200 OK',
      'ICY 200 OK',
    ]) {
      expect(typeof parseResponseHead(bad), bad).toBe('string');
    }
  });
});

/** A chunked body of the given chunk sizes (a last chunk and optional trailers end it), and its length. */
function chunkedBody(sizes: number[], trailers: string[], extension: string): string {
  let text = '';
  for (const size of sizes) text += `${size.toString(16)}${extension}\r\n${'x'.repeat(size)}\r\n`;
  text += `0${extension}\r\n`;
  for (const trailer of trailers) text += `${trailer}\r\n`;
  return `${text}\r\n`;
}

/** Feeds `bytes` cut at `cuts`: where the body was found to end, or CHUNKED_INVALID. */
function endOf(bytes: Buffer, cuts: number[]): number {
  const body = new ChunkedBody();
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let offset = 0;
  for (const point of [...points, bytes.length]) {
    if (point <= offset) continue;
    const piece = bytes.subarray(offset, point);
    const at = body.feed(piece);
    if (at === CHUNKED_INVALID) return CHUNKED_INVALID;
    if (at !== CHUNKED_MORE) return offset + at;
    offset = point;
  }
  return CHUNKED_MORE;
}

describe('ChunkedBody', () => {
  const sizes = fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 6 });
  const trailers = fc.array(fc.constantFrom('X-Sum: 1', 'Expires: never', 'A:b'), { maxLength: 2 });
  const extension = fc.constantFrom('', ';a=1', ';name="v"');
  const cuts = fc.array(fc.nat(), { maxLength: 8 });

  it('finds the exact end of any valid body however it is cut, and leaves what follows alone', () => {
    fc.assert(
      fc.property(sizes, trailers, extension, cuts, fc.constantFrom('', 'GET / HTTP/1.1\r\n'), (s, t, e, c, next) => {
        const body = chunkedBody(s, t, e);
        expect(endOf(Buffer.from(body + next, 'latin1'), c)).toBe(body.length);
      }),
      { numRuns: 300 },
    );
  });

  it('never reports an end for a body cut short', () => {
    fc.assert(
      fc.property(sizes, trailers, extension, cuts, fc.nat(), (s, t, e, c, at) => {
        const body = chunkedBody(s, t, e);
        const short = body.slice(0, at % body.length);
        expect(endOf(Buffer.from(short, 'latin1'), c)).toBe(CHUNKED_MORE);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['a size that is not hex', 'g\r\n'],
    ['a negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a space before the size', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['a size past 2^52', 'fffffffffffffff\r\n'],
    ['data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'],
    ['a bare LF after the data', '5\r\nhello\n0\r\n\r\n'],
    ['a control character in an extension', '5;a=\x01\r\nhello\r\n0\r\n\r\n'],
    ['a folded trailer', '0\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['a bare LF ending the trailers', '0\r\n\n'],
  ])('refuses %s', (_what, bytes) => {
    expect(endOf(Buffer.from(bytes, 'latin1'), [])).toBe(CHUNKED_INVALID);
  });
});
