/** Certificate checks that fail because this machine does not trust the upstream's certificate (or its CA). */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

/**
 * Why the proxy could not get an answer from its upstream, in words an operator can act on: the 502's body
 * and the proxy's log line. `error` is the upstream connection's last error; `null` when it only closed.
 */
export function describeUpstreamFailure(origin: string, error: NodeJS.ErrnoException | null): string {
  const code = error?.code;
  if (code === undefined) return `upstream ${origin} is unreachable: it closed the connection without an answer`;
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    return `upstream ${origin} failed TLS verification: its certificate is not trusted (${code}); give pulseboard its CA with NODE_EXTRA_CA_CERTS=<file.pem>`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `upstream ${origin} failed TLS verification: its certificate is outside its validity dates (${code})`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `upstream ${origin} failed TLS verification: its certificate does not name this host (${code})`;
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return `upstream ${origin} failed the TLS handshake (${code}): does that port speak TLS?`;
  }
  return `upstream ${origin} is unreachable: ${NETWORK[code] ?? 'connection failed'} (${code})`;
}

/**
 * Says each distinct failure once, and the same one again at most once a minute: an upstream that is down
 * fails every request, and the log must not grow with the traffic.
 */
export class FailureLog {
  private last = '';
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly write: (line: string) => void,
    private readonly everyMs = 60_000,
  ) {}

  report(text: string, now: number): void {
    if (text === this.last && now - this.lastAt < this.everyMs) return;
    this.last = text;
    this.lastAt = now;
    this.write(text);
  }
}
