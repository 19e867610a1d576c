import { describe, expect, it } from 'vitest';
import { clientAddress, isHttps } from '../../server/http/client.js';

describe('the client behind a proxy', () => {
  it('is the socket peer unless --trust-proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('10.0.0.2', '203.0.113.7', false)).toBe('10.0.0.2');
    expect(clientAddress(undefined, undefined, false)).toBe('unknown');
  });

  it('with --trust-proxy, is the last X-Forwarded-For entry: the one the proxy added, not those the client sent', () => {
    expect(clientAddress('10.0.0.2', '203.0.113.7', true)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.2', '1.1.1.1, 8.8.8.8,203.0.113.7 ', true)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.2', '2001:db8::7', true)).toBe('2001:db8::7');
  });

  it('with --trust-proxy, falls back to the socket peer when the last entry is not an IP address', () => {
    for (const header of [
      undefined,
      '',
      ' , ',
      '203.0.113.7, evil',
      'unknown',
      '[2001:db8::7]:443',
      '203.0.113.7:8080',
      'x'.repeat(10_000),
    ]) {
      expect(clientAddress('10.0.0.2', header, true)).toBe('10.0.0.2');
    }
  });

  it("is on HTTPS over the server's own TLS, or with --trust-proxy when the proxy last said https", () => {
    expect(isHttps('https://127.0.0.1:3000/', undefined, false)).toBe(true);
    expect(isHttps('http://127.0.0.1:3000/', 'https', false)).toBe(false);
    expect(isHttps('http://127.0.0.1:3000/', 'https', true)).toBe(true);
    expect(isHttps('http://127.0.0.1:3000/', 'HTTPS', true)).toBe(true);
    expect(isHttps('http://127.0.0.1:3000/', 'https, http', true)).toBe(false);
    expect(isHttps('http://127.0.0.1:3000/', 'http', true)).toBe(false);
    expect(isHttps('http://127.0.0.1:3000/', undefined, true)).toBe(false);
  });
});
