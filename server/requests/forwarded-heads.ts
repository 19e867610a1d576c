import { STATUS_CODES } from 'node:http';
import type { RequestHead, ResponseHead } from './http-head.js';
import { withoutCookie } from './proxy-headers.js';

/**
 * The heads the raw proxy writes, as text: a parsed head's end-to-end headers passed on as they came
 * (names lowercased), what must change rewritten: hop-by-hop headers and those `Connection` names dropped,
 * `Host` set to the upstream's, `X-Forwarded-*` added, the dashboard's cookie kept out both ways.
 */

/** Headers about one connection, not the message (RFC 9110 §7.6.1). */
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

/** Set by the proxy itself: what a client sends under these names is dropped. */
const OURS = new Set(['host', 'x-forwarded-host', 'x-forwarded-proto']);

export interface UpstreamRequest {
  request: RequestHead;
  /** The target in origin form. */
  path: string;
  /** `Host` for the upstream: the target's host and port. */
  upstreamHost: string;
  remoteAddress: string;
  privateCookie: string;
  /** Whether the connection is to switch protocols (WebSocket). */
  upgrade: boolean;
}

/** The request head for the upstream, its final empty line included. */
export function upstreamRequestHead({ request, path, upstreamHost, remoteAddress, privateCookie, upgrade }: UpstreamRequest): string {
  const { headers, connection } = request;
  let text = `${request.method} ${path} HTTP/1.${request.minorVersion}\r\nhost: ${upstreamHost}\r\n`;
  let forwardedFor = '';
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    let value = headers[i + 1] as string;
    if (HOP_BY_HOP.has(name) || OURS.has(name) || connection?.includes(name)) continue;
    if (name === 'x-forwarded-for') {
      forwardedFor = forwardedFor === '' ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (name === 'cookie' && value.includes(privateCookie)) {
      const kept = withoutCookie(value, privateCookie);
      if (kept === undefined) continue;
      value = kept;
    }
    text += `${name}: ${value}\r\n`;
  }
  if (request.chunked) text += 'transfer-encoding: chunked\r\n';
  text += `x-forwarded-for: ${forwardedFor === '' ? remoteAddress : `${forwardedFor}, ${remoteAddress}`}\r\n`;
  if (request.host !== null) text += `x-forwarded-host: ${request.host}\r\n`;
  text += 'x-forwarded-proto: http\r\n';
  if (upgrade) text += `connection: upgrade\r\nupgrade: ${request.upgrade}\r\n`;
  return `${text}\r\n`;
}

function isOurCookie(setCookie: string, privateCookie: string): boolean {
  const equals = setCookie.indexOf('=');
  return (equals < 0 ? setCookie : setCookie.slice(0, equals)).trim() === privateCookie;
}

export interface DownstreamResponse {
  response: ResponseHead;
  /** The upstream's status line from its status code on (`200 OK`). */
  statusText: string;
  privateCookie: string;
  /** The client's connection ends after this response. */
  close: boolean;
  /** A 101 to an upgrade: `Connection: upgrade` and the upstream's `Upgrade` go back. */
  upgrade: boolean;
}

/** The response head for the client, its final empty line included. */
export function downstreamResponseHead({ response, statusText, privateCookie, close, upgrade }: DownstreamResponse): string {
  const { headers, connection } = response;
  let text = `HTTP/1.1 ${statusText}\r\n`;
  let upgradeTo: string | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (name === 'upgrade') upgradeTo = value;
    if (HOP_BY_HOP.has(name) || connection?.includes(name)) continue;
    if (name === 'set-cookie' && isOurCookie(value, privateCookie)) continue;
    text += `${name}: ${value}\r\n`;
  }
  // The body goes on in the framing it came in.
  if (response.chunked) text += 'transfer-encoding: chunked\r\n';
  if (upgrade) text += `connection: upgrade\r\nupgrade: ${upgradeTo ?? ''}\r\n`;
  else if (close) text += 'connection: close\r\n';
  return `${text}\r\n`;
}

/** An answer of the proxy's own (400, 502, 504): JSON, and the connection closes after it. */
export function proxyAnswer(status: number, error: string): string {
  const body = JSON.stringify({ error });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}
