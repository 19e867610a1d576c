import type { StatusClass } from '../protocol.js';
import { readCaddyFieldsAt } from './caddy-line.js';
import { RouteCache } from './route-groups.js';
import { statusClassOf, UNMATCHED_ROUTE } from './stats.js';

/** One request as an access log line tells it. */
export interface LoggedRequest {
  /** Grouped as the proxy groups paths: `GET /users/:id`. */
  route: string;
  statusClass: StatusClass;
  ms: number;
  bytes: number;
}

export type LineResult = { ok: true; request: LoggedRequest } | { ok: false; reason: string };

const METHOD = /^[A-Z]{1,16}$/;
const SECONDS = /^\d+\.\d+$/;
const MICROSECONDS = /^\d+$/;
const BYTES = /^(\d+|-)$/;

const fail = (reason: string): LineResult => ({ ok: false, reason });

const routes = new RouteCache();

/**
 * Parses one line of an access log, whichever of the three formats it is in:
 * - nginx `combined` followed by `$request_time` (seconds, with a decimal point);
 * - Apache `combined` followed by `%D` (microseconds, an integer);
 * - Caddy's JSON access log (`duration` in seconds, `size`, `status`, `request.method`, `request.uri`).
 * Anything else is a reason, never an exception.
 */
export function parseAccessLine(line: string): LineResult {
  const backslash = line.indexOf('\\');
  return parseAccessLineAt(line, 0, line.length, backslash < 0 ? line.length : backslash);
}

/**
 * `parseAccessLine` of the line `text[start, end)` of a chunk read from a log: a Caddy line is read in place,
 * not cut out first. `firstBackslash` is where the first backslash at or after `start` is (`end` or beyond: none).
 */
export function parseAccessLineAt(text: string, start: number, end: number, firstBackslash: number): LineResult {
  if (text.charCodeAt(start) === 0x7b /* { */) {
    const fields = start < end ? readCaddyFieldsAt(text, start, end, firstBackslash) : null;
    if (fields !== null) return caddyRequest(fields.method, fields.uri, fields.status, fields.duration, fields.size ?? 0);
    return parseCaddyWithJsonParse(text.slice(start, end));
  }
  return parseCombined(start === 0 && end === text.length ? text : text.slice(start, end));
}

function parseCombined(line: string): LineResult {
  const open = line.indexOf(' "');
  if (open < 0) return fail('no quoted request line');
  const close = closingQuote(line, open + 2);
  if (close < 0) return fail('no quoted request line');
  // `"request" status bytes "referer" "user-agent" time`: the status and bytes follow the request line.
  const afterRequest = close + 2;
  const statusEnd = line.indexOf(' ', afterRequest);
  const bytesEnd = statusEnd < 0 ? -1 : line.indexOf(' ', statusEnd + 1);
  if (bytesEnd < 0) return fail('no status and size after the request line');
  const status = statusEnd === afterRequest + 3 ? threeDigits(line, afterRequest) : -1;
  if (status < 100 || status > 599) return fail('no HTTP status after the request line');
  const bytesText = line.slice(statusEnd + 1, bytesEnd);
  if (!BYTES.test(bytesText)) return fail('no response size after the status');
  const lastSpace = line.lastIndexOf(' ');
  if (line.charCodeAt(lastSpace - 1) !== 0x22 /* " */ || lastSpace <= bytesEnd) {
    return fail('no request time at the end of the line (nginx: $request_time; Apache: %D)');
  }
  const time = line.slice(lastSpace + 1);
  let ms: number;
  if (SECONDS.test(time)) ms = Number(time) * 1000;
  else if (MICROSECONDS.test(time)) ms = Number(time) / 1000;
  else return fail('no request time at the end of the line (nginx: $request_time; Apache: %D)');
  return {
    ok: true,
    request: {
      route: routeOfRequestLine(line.slice(open + 2, close)),
      statusClass: status === 499 ? 'aborted' : statusClassOf(status),
      ms,
      bytes: bytesText === '-' ? 0 : Number(bytesText),
    },
  };
}

/** The number written by the three characters at `at`, or -1 when they are not all digits. */
function threeDigits(line: string, at: number): number {
  let value = 0;
  for (let i = at; i < at + 3; i++) {
    const digit = line.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The quote that ends the request line: the first `" ` not escaped with a backslash (Apache writes `\"`). */
function closingQuote(line: string, from: number): number {
  let at = line.indexOf('" ', from);
  while (at > 0 && line.charCodeAt(at - 1) === 0x5c /* \ */) at = line.indexOf('" ', at + 1);
  return at;
}

/**
 * `GET /users/42?page=2 HTTP/1.1` → `GET /users/:id`. A request line that is not one (`-`, the bytes of a
 * TLS handshake sent to a plain port) was still a request the server answered: it counts as `unmatched`.
 */
function routeOfRequestLine(requestLine: string): string {
  const firstSpace = requestLine.indexOf(' ');
  if (firstSpace < 0) return UNMATCHED_ROUTE;
  const method = requestLine.slice(0, firstSpace);
  if (!METHOD.test(method)) return UNMATCHED_ROUTE;
  const lastSpace = requestLine.lastIndexOf(' ');
  const target = lastSpace > firstSpace ? requestLine.slice(firstSpace + 1, lastSpace) : requestLine.slice(firstSpace + 1);
  const path = pathOfTarget(target);
  return path === null ? UNMATCHED_ROUTE : routes.routeOf(method, path);
}

/** The path of a request target: origin form without its query, or an absolute URL's path. */
function pathOfTarget(target: string): string | null {
  let start = 0;
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    const scheme = target.indexOf('://');
    if (scheme < 0) return null;
    start = target.indexOf('/', scheme + 3);
    if (start < 0) return '/';
  }
  const query = target.indexOf('?', start);
  return query < 0 ? target.slice(start) : target.slice(start, query);
}

interface CaddyEntry {
  request?: { method?: unknown; uri?: unknown };
  status?: unknown;
  duration?: unknown;
  size?: unknown;
}

/** The whole line through JSON.parse: for lines of another shape than Caddy's own, and the tests' reference. */
export function parseCaddyWithJsonParse(line: string): LineResult {
  let entry: CaddyEntry;
  try {
    entry = JSON.parse(line) as CaddyEntry;
  } catch {
    return fail('not valid JSON');
  }
  if (typeof entry !== 'object' || entry === null) return fail('not a JSON object');
  const { request, status, duration, size } = entry;
  const method = request?.method;
  const uri = request?.uri;
  if (typeof method !== 'string' || typeof uri !== 'string') return fail('no request.method and request.uri (a Caddy access log?)');
  if (typeof status !== 'number') return fail('no status');
  if (typeof duration !== 'number') return fail('no duration in seconds');
  return caddyRequest(method, uri, status, duration, typeof size === 'number' ? size : 0);
}

function caddyRequest(method: string, uri: string, status: number, duration: number, size: number): LineResult {
  if (!(status === 0 || (Number.isInteger(status) && status >= 100 && status <= 599))) return fail('no status');
  if (!Number.isFinite(duration) || duration < 0) return fail('no duration in seconds');
  const bytes = Number.isFinite(size) && size >= 0 ? size : 0;
  const path = pathOfTarget(uri);
  return {
    ok: true,
    request: {
      route: path === null || !METHOD.test(method) ? UNMATCHED_ROUTE : routes.routeOf(method, path),
      // Caddy logs status 0 when the client left before a response was written.
      statusClass: status === 0 ? 'aborted' : statusClassOf(status),
      ms: duration * 1000,
      bytes,
    },
  };
}
