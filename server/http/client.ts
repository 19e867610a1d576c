import { isIP } from 'node:net';

/**
 * The entry the nearest proxy added to a comma-separated forwarding header: the last one. Entries before it
 * came with the request, so the client could have written them.
 */
function lastEntry(header: string | undefined): string | null {
  if (header === undefined) return null;
  const comma = header.lastIndexOf(',');
  const entry = header.slice(comma + 1).trim();
  return entry === '' ? null : entry;
}

/**
 * The address a request counts as (the per-client stream cap): the socket's peer, or with `--trust-proxy`
 * the address the proxy in front put last in `X-Forwarded-For`, when it is an IP address.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trustProxy: boolean): string {
  const forwarded = trustProxy ? lastEntry(forwardedFor) : null;
  if (forwarded !== null && isIP(forwarded) !== 0) return forwarded;
  return socketAddress ?? 'unknown';
}

/** Whether the browser reached us over HTTPS: this server's own TLS, or with `--trust-proxy` the proxy's `X-Forwarded-Proto`. */
export function isHttps(requestUrl: string, forwardedProto: string | undefined, trustProxy: boolean): boolean {
  if (new URL(requestUrl).protocol === 'https:') return true;
  return trustProxy && lastEntry(forwardedProto)?.toLowerCase() === 'https';
}
