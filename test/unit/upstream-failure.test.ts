import { describe, expect, it } from 'vitest';
import { describeUpstreamFailure, FailureLog } from '../../server/requests/upstream-failure.js';

const ORIGIN = 'https://app.internal:8443';
const failure = (code: string) => Object.assign(new Error(code), { code });

describe('describeUpstreamFailure', () => {
  it('names the fix for a certificate this machine does not trust', () => {
    for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']) {
      expect(describeUpstreamFailure(ORIGIN, failure(code))).toBe(
        `upstream ${ORIGIN} failed TLS verification: its certificate is not trusted (${code}); give pulseboard its CA with NODE_EXTRA_CA_CERTS=<file.pem>`,
      );
    }
  });

  it('tells an expired certificate, a certificate for another name and a port without TLS apart', () => {
    expect(describeUpstreamFailure(ORIGIN, failure('CERT_HAS_EXPIRED'))).toContain('outside its validity dates (CERT_HAS_EXPIRED)');
    expect(describeUpstreamFailure(ORIGIN, failure('ERR_TLS_CERT_ALTNAME_INVALID'))).toContain('does not name this host');
    expect(describeUpstreamFailure(ORIGIN, failure('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe(
      `upstream ${ORIGIN} failed the TLS handshake (ERR_SSL_WRONG_VERSION_NUMBER): does that port speak TLS?`,
    );
  });

  it('says unreachable, with the reason, for network failures and a close without an answer', () => {
    expect(describeUpstreamFailure(ORIGIN, failure('ECONNREFUSED'))).toBe(
      `upstream ${ORIGIN} is unreachable: connection refused (ECONNREFUSED)`,
    );
    expect(describeUpstreamFailure(ORIGIN, failure('ENOTFOUND'))).toBe(
      `upstream ${ORIGIN} is unreachable: host name not found (ENOTFOUND)`,
    );
    expect(describeUpstreamFailure(ORIGIN, failure('EPROTO'))).toBe(`upstream ${ORIGIN} is unreachable: connection failed (EPROTO)`);
    expect(describeUpstreamFailure(ORIGIN, null)).toBe(`upstream ${ORIGIN} is unreachable: it closed the connection without an answer`);
  });
});

describe('FailureLog', () => {
  it('says a failure once, again after a minute, and at once when the failure changes', () => {
    const lines: string[] = [];
    const log = new FailureLog((line) => lines.push(line));
    log.report('a', 0);
    log.report('a', 59_999);
    log.report('b', 60_000);
    log.report('b', 61_000);
    log.report('a', 62_000);
    log.report('a', 122_000);
    expect(lines).toEqual(['a', 'b', 'a', 'a']);
  });
});
