/**
 * Strict HTTP/1.1 message heads for the proxy (RFC 9112), read from the head's bytes as a latin1 string
 * (one byte, one character) without its final empty line. Strict where a lenient reading lets two parsers
 * disagree on where a message ends (request smuggling): CRLF line ends only, no obs-fold, no whitespace
 * before a colon, no control characters in values, one Content-Length of digits only, Transfer-Encoding
 * `chunked` alone and never beside a Content-Length.
 */

/** The longest head read before the message is refused (Node's own default). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** Header names the proxy reads; everything else is passed on as it came, names lowercased. */
export interface HeadFields {
  /** Flat `[name, value, name, value, ...]`, names lowercased, values without surrounding whitespace. */
  headers: string[];
  /** -1 without a Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** The tokens of every `Connection` header, lowercased; null without one. */
  connection: string[] | null;
  /** HTTP/1.0 (minor version 0) or 1.1. */
  minorVersion: number;
}

export interface RequestHead extends HeadFields {
  method: string;
  target: string;
  host: string | null;
  upgrade: string | null;
}

export interface ResponseHead extends HeadFields {
  status: number;
}

/** tchar (RFC 9110 §5.6.2): the characters of methods and header names. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;

function isToken(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** A field value: HTAB, SP, visible ASCII and obs-text; no CR, LF, NUL or other control character. */
function isFieldValue(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

const isOws = (c: number) => c === 0x20 || c === 0x09;

/**
 * Reads the header lines from `from` to the end of `head` into `fields`; the reason for refusing them, or
 * null. Framing is checked here: it decides where the message ends.
 */
function readHeaders(head: string, from: number, fields: HeadFields): string | null {
  let contentLengths = 0;
  let transferEncodings = 0;
  let start = from;
  const end = head.length;
  while (start < end) {
    let lineEnd = head.indexOf('\r\n', start);
    if (lineEnd < 0) lineEnd = end;
    const first = head.charCodeAt(start);
    if (isOws(first)) return 'obsolete line folding';
    const colon = head.indexOf(':', start);
    if (colon < 0 || colon > lineEnd || !isToken(head, start, colon)) return 'a header name that is not a token';
    let valueStart = colon + 1;
    let valueEnd = lineEnd;
    while (valueStart < valueEnd && isOws(head.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isOws(head.charCodeAt(valueEnd - 1))) valueEnd--;
    if (!isFieldValue(head, valueStart, lineEnd)) return 'a control character in a header value';
    const name = head.slice(start, colon).toLowerCase();
    const value = head.slice(valueStart, valueEnd);
    fields.headers.push(name, value);
    if (name === 'content-length') {
      contentLengths++;
      if (contentLengths > 1) return 'more than one Content-Length';
      // A tab after the digits is whitespace to RFC 9110 but not to llhttp: refused, so the two never disagree.
      if (!/^\d{1,15}$/.test(value) || head.charCodeAt(lineEnd - 1) === 0x09) return 'a Content-Length that is not a number';
      fields.contentLength = Number(value);
    } else if (name === 'transfer-encoding') {
      transferEncodings++;
      if (transferEncodings > 1 || value.toLowerCase() !== 'chunked') return 'a Transfer-Encoding other than chunked alone';
      fields.chunked = true;
    } else if (name === 'connection') {
      const tokens = fields.connection ?? [];
      for (const token of value.split(',')) {
        const trimmed = token.trim().toLowerCase();
        if (trimmed !== '') tokens.push(trimmed);
      }
      fields.connection = tokens;
    }
    start = lineEnd + 2;
  }
  if (contentLengths > 0 && transferEncodings > 0) return 'both Content-Length and Transfer-Encoding';
  if (transferEncodings > 0 && fields.minorVersion === 0) return 'Transfer-Encoding in an HTTP/1.0 message';
  return null;
}

/** `HTTP/1.1` or `HTTP/1.0` at `at`: its minor version, or -1. */
function versionAt(head: string, at: number): number {
  if (!head.startsWith('HTTP/1.', at)) return -1;
  const minor = head.charCodeAt(at + 7);
  return minor === 0x31 ? 1 : minor === 0x30 ? 0 : -1;
}

/** A request target: visible ASCII only. */
function isTarget(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** The head of a request, or why it is refused (the proxy answers 400 with it). */
export function parseRequestHead(head: string): RequestHead | string {
  const lineEnd = head.indexOf('\r\n');
  const requestLineEnd = lineEnd < 0 ? head.length : lineEnd;
  const methodEnd = head.indexOf(' ');
  if (methodEnd < 0 || methodEnd > requestLineEnd || !isToken(head, 0, methodEnd)) return 'a malformed request line';
  const targetEnd = head.indexOf(' ', methodEnd + 1);
  if (targetEnd < 0 || targetEnd > requestLineEnd || !isTarget(head, methodEnd + 1, targetEnd)) return 'a malformed request line';
  const minorVersion = versionAt(head, targetEnd + 1);
  if (minorVersion < 0 || targetEnd + 9 !== requestLineEnd) return 'a malformed request line';
  const request: RequestHead = {
    method: head.slice(0, methodEnd),
    target: head.slice(methodEnd + 1, targetEnd),
    headers: [],
    contentLength: -1,
    chunked: false,
    connection: null,
    minorVersion,
    host: null,
    upgrade: null,
  };
  if (lineEnd >= 0) {
    const refused = readHeaders(head, lineEnd + 2, request);
    if (refused !== null) return refused;
  }
  const { headers } = request;
  let hosts = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name === 'host') {
      hosts++;
      request.host = headers[i + 1] as string;
    } else if (name === 'upgrade') request.upgrade = headers[i + 1] as string;
  }
  if (hosts > 1 || (hosts === 0 && minorVersion === 1)) return 'an HTTP/1.1 request needs exactly one Host header';
  return request;
}

/** The head of a response, or why it cannot be forwarded (the proxy answers 502). */
export function parseResponseHead(head: string): ResponseHead | string {
  const minorVersion = versionAt(head, 0);
  if (minorVersion < 0 || head.charCodeAt(8) !== 0x20) return 'a malformed status line';
  const status = Number(head.slice(9, 12));
  if (!/^[1-9]\d\d$/.test(head.slice(9, 12))) return 'a malformed status line';
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  // The reason phrase: anything printable, or nothing.
  if (lineEnd > 12 && (head.charCodeAt(12) !== 0x20 || !isFieldValue(head, 13, lineEnd))) return 'a malformed status line';
  const response: ResponseHead = { status, headers: [], contentLength: -1, chunked: false, connection: null, minorVersion };
  if (lineEnd < head.length) {
    const refused = readHeaders(head, lineEnd + 2, response);
    if (refused !== null) return refused;
  }
  return response;
}
