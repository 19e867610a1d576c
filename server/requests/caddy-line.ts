/** The five fields a Caddy access-log line is read for. */
export interface CaddyFields {
  method: string;
  uri: string;
  status: number;
  duration: number;
  /** Absent from the line: undefined. */
  size: number | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;

/**
 * Reads `request.method`, `request.uri`, `status`, `duration` and `size` from one line of Caddy's JSON access
 * log without building the object: JSON.parse of a 480-byte line costs more than the rest of the tailing.
 * Strings are skipped with indexOf and only the brackets between them are counted, so a key is known to be
 * the top-level one (or the request object's own) whatever nested objects or strings hold the same words.
 * Returns null when the line is not of the expected shape (a field missing, repeated or not a plain number or
 * string, a key written with escapes, brackets not closing by their own kind at the end of the line): the
 * caller then parses it with JSON.parse. For valid JSON both answers are the same. What is not checked is the
 * rest of JSON's grammar (commas, the text of strings and values not read): a damaged line that keeps the five
 * fields in place is read, where JSON.parse would refuse it. Escapes inside the method and uri are decoded.
 */
export function readCaddyFields(line: string): CaddyFields | null {
  const backslash = line.indexOf('\\');
  return readCaddyFieldsAt(line, 0, line.length, backslash < 0 ? line.length : backslash);
}

/**
 * `readCaddyFields` of the line `line[start, end)`, read in place (a chunk of a log holds many lines: a line
 * cut out of it is a sliced string, slower to read character by character). `firstBackslash` is where the
 * first backslash at or after `start` is (`end` or beyond when the line has none).
 */
export function readCaddyFieldsAt(line: string, start: number, end: number, firstBackslash: number): CaddyFields | null {
  const hasEscapes = firstBackslash < end;
  const last = end - 1;
  let depth = 0;
  // One bit per open bracket, the innermost lowest: 1 for `[`, so each must close with its own kind.
  let arrays = 0;
  let inRequest = false;
  let request = -1;
  let method = -1;
  let uri = -1;
  let status = -1;
  let duration = -1;
  let size = -1;
  let i = start;
  while (i <= last) {
    const c = line.charCodeAt(i);
    if (c === QUOTE) {
      const close = hasEscapes ? closingQuote(line, i + 1) : line.indexOf('"', i + 1);
      if (close < 0 || close > last) return null;
      if ((depth === 1 || (inRequest && depth === 2)) && line.charCodeAt(close + 1) === COLON) {
        if (hasEscapes && hasBackslash(line, i + 1, close, firstBackslash)) return null;
        const value = close + 2;
        if (depth === 1) {
          if (keyIs(line, i, close, 'status')) status = status < 0 ? value : -2;
          else if (keyIs(line, i, close, 'duration')) duration = duration < 0 ? value : -2;
          else if (keyIs(line, i, close, 'size')) size = size < 0 ? value : -2;
          else if (keyIs(line, i, close, 'request')) request = request < 0 ? value : -2;
        } else if (keyIs(line, i, close, 'method')) method = method < 0 ? value : -2;
        else if (keyIs(line, i, close, 'uri')) uri = uri < 0 ? value : -2;
      }
      i = close + 1;
      continue;
    }
    // `[` and `]` are `{` and `}` but for the 0x20 bit.
    const bracket = c | 0x20;
    if (bracket === OPEN_BRACE) {
      if (++depth > 30) return null;
      arrays = (arrays << 1) | (c === OPEN_BRACE ? 0 : 1);
      if (depth === 2 && i === request && c === OPEN_BRACE) inRequest = true;
    } else if (bracket === CLOSE_BRACE) {
      if ((arrays & 1) !== (c === CLOSE_BRACE ? 0 : 1)) return null;
      arrays >>>= 1;
      depth--;
      if (depth === 1) inRequest = false;
      if (depth <= 0 && i !== last) return null;
    }
    i++;
  }
  // -2: a key seen twice (JSON.parse keeps the last one).
  if (depth !== 0 || request === -2 || method < 0 || uri < 0 || status < 0 || duration < 0 || size === -2) return null;
  const methodText = stringAt(line, method, hasEscapes, firstBackslash);
  const uriText = stringAt(line, uri, hasEscapes, firstBackslash);
  const statusValue = numberAt(line, status);
  const durationValue = numberAt(line, duration);
  const sizeValue = size < 0 ? undefined : numberAt(line, size);
  if (methodText === null || uriText === null || Number.isNaN(statusValue) || Number.isNaN(durationValue)) return null;
  if (sizeValue !== undefined && Number.isNaN(sizeValue)) return null;
  return { method: methodText, uri: uriText, status: statusValue, duration: durationValue, size: sizeValue };
}

/** The quote that ends the string whose text starts at `from`: the first not escaped by an odd run of backslashes. */
function closingQuote(line: string, from: number): number {
  let at = line.indexOf('"', from);
  while (at > 0) {
    let backslashes = 0;
    while (line.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = line.indexOf('"', at + 1);
  }
  return at;
}

/**
 * Whether `line[from, to)` holds a backslash, knowing the line's first one: either that one, or searched
 * backwards from `to`, which stops at the line's first one at the latest (never scanning the rest of a chunk).
 */
function hasBackslash(line: string, from: number, to: number, firstBackslash: number): boolean {
  if (firstBackslash >= from) return firstBackslash < to;
  return line.lastIndexOf('\\', to - 1) >= from;
}

/** Whether the string between the quotes at `open` and `close` is `name`. */
function keyIs(line: string, open: number, close: number, name: string): boolean {
  return close - open - 1 === name.length && line.startsWith(name, open + 1);
}

/** The JSON string value at `at`, ended by `,` or `}`; null when it is not one. */
function stringAt(line: string, at: number, hasEscapes: boolean, firstBackslash: number): string | null {
  if (line.charCodeAt(at) !== QUOTE) return null;
  const close = hasEscapes ? closingQuote(line, at + 1) : line.indexOf('"', at + 1);
  if (close < 0 || !endsValue(line.charCodeAt(close + 1))) return null;
  if (!hasEscapes || !hasBackslash(line, at + 1, close, firstBackslash)) return line.slice(at + 1, close);
  try {
    return JSON.parse(line.slice(at, close + 1)) as string;
  } catch {
    return null;
  }
}

/** The JSON number at `at`, ended by `,` or `}`; NaN when it is not one (a string, null, `1.`, `01`). */
function numberAt(line: string, at: number): number {
  let i = at;
  if (line.charCodeAt(i) === MINUS) i++;
  const digitsStart = i;
  // The digits as one integer, and how many of them follow the point.
  let digits = 0;
  let decimals = 0;
  if (line.charCodeAt(i) === ZERO) i++;
  else {
    if (!isDigit(line.charCodeAt(i))) return Number.NaN;
    while (isDigit(line.charCodeAt(i))) digits = digits * 10 + line.charCodeAt(i++) - ZERO;
  }
  if (line.charCodeAt(i) === DOT) {
    i++;
    if (!isDigit(line.charCodeAt(i))) return Number.NaN;
    while (isDigit(line.charCodeAt(i))) {
      digits = digits * 10 + line.charCodeAt(i++) - ZERO;
      decimals++;
    }
  }
  const digitsEnd = i;
  let exponent = false;
  if ((line.charCodeAt(i) | 0x20) === 0x65 /* e or E */) {
    exponent = true;
    i++;
    if (line.charCodeAt(i) === PLUS || line.charCodeAt(i) === MINUS) i++;
    if (!isDigit(line.charCodeAt(i))) return Number.NaN;
    while (isDigit(line.charCodeAt(i))) i++;
  }
  if (!endsValue(line.charCodeAt(i))) return Number.NaN;
  // Up to 15 digits are an exact integer in a double and 10^decimals is exact too, so their quotient is
  // rounded once: the same double as reading the text (Clinger's fast path). Anything else, as JSON reads it.
  if (!exponent && digitsEnd - digitsStart - (decimals > 0 ? 1 : 0) <= 15) {
    const value = decimals === 0 ? digits : digits / (POWERS_OF_TEN[decimals] as number);
    return line.charCodeAt(at) === MINUS ? -value : value;
  }
  return Number(line.slice(at, i));
}

const POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

const isDigit = (code: number) => code >= 0x30 && code <= 0x39;
const endsValue = (code: number) => code === COMMA || code === CLOSE_BRACE;
