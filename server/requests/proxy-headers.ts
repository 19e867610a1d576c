import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Headers about one connection, not the message (RFC 9110 §7.6.1): a proxy never forwards them. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The header names a `Connection` header lists: hop-by-hop too, by the sender's word. */
function namedInConnection(connection: string | string[] | undefined): Set<string> {
  const values = Array.isArray(connection) ? connection : connection === undefined ? [] : [connection];
  const names = new Set<string>();
  for (const value of values) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') names.add(name);
    }
  }
  return names;
}

/** The headers of a message that go on to the next hop, in either direction. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const connection = headers.connection;
  // The usual `Connection: keep-alive` (or `close`) names no header but hop-by-hop ones: no set to build.
  const dropped = connection === undefined || connection === 'keep-alive' || connection === 'close' ? null : namedInConnection(connection);
  const result: OutgoingHttpHeaders = {};
  // for-in, not Object.entries: no array per header on every request through the proxy.
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name) && (dropped === null || !dropped.has(name))) result[name] = value;
  }
  return result;
}

/**
 * A `Cookie` header without the cookie called `name`; undefined when nothing else is left. Browsers send
 * a host's cookies to every port of it, so the proxied app would otherwise receive ours.
 */
export function withoutCookie(header: string, name: string): string | undefined {
  const kept = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && pair.split('=', 1)[0]?.trim() !== name);
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/**
 * What goes back to the client: end-to-end headers without a `Set-Cookie` of our cookie's name. The browser
 * would store it for the whole host, so the proxied app could replace (or clear) the dashboard's token.
 */
export function downstreamResponseHeaders(headers: IncomingHttpHeaders, privateCookie: string): OutgoingHttpHeaders {
  const result = endToEndHeaders(headers);
  const setCookie = headers['set-cookie'];
  if (setCookie !== undefined) {
    const kept = setCookie.filter((line) => line.split('=', 1)[0]?.trim() !== privateCookie);
    if (kept.length > 0) result['set-cookie'] = kept;
    else delete result['set-cookie'];
  }
  return result;
}

export interface ForwardedRequest {
  headers: IncomingHttpHeaders;
  /** The client's address, as the socket says. */
  remoteAddress: string;
  /** Our own cookie: it stays with us. */
  privateCookie: string;
}

/** What goes upstream: end-to-end headers without our cookie or `Host` (the agent sets it), plus `X-Forwarded-*`. */
export function upstreamRequestHeaders({ headers, remoteAddress, privateCookie }: ForwardedRequest): OutgoingHttpHeaders {
  const result = endToEndHeaders(headers);
  delete result.host;
  const cookie = typeof result.cookie === 'string' ? withoutCookie(result.cookie, privateCookie) : undefined;
  if (cookie === undefined) delete result.cookie;
  else result.cookie = cookie;
  const previous = headers['x-forwarded-for'];
  result['x-forwarded-for'] = typeof previous === 'string' && previous !== '' ? `${previous}, ${remoteAddress}` : remoteAddress;
  if (headers.host !== undefined) result['x-forwarded-host'] = headers.host;
  result['x-forwarded-proto'] = 'http';
  return result;
}

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The request target to send upstream, in origin form (`/path?query`): an absolute-form target
 * (`GET http://other.example/path`) is cut to its path and query, so the upstream never routes by a host
 * the client chose. `OPTIONS *` stays as it is. Null for anything else (authority form, garbage).
 */
export function originFormTarget(method: string, target: string): string | null {
  if (target.startsWith('/')) return target;
  if (target === '*' && method === 'OPTIONS') return target;
  if (!ABSOLUTE_FORM.test(target)) return null;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return null;
  }
}
