import { describe, expect, it } from 'vitest';
import {
  downstreamResponseHeaders,
  endToEndHeaders,
  originFormTarget,
  upstreamRequestHeaders,
  withoutCookie,
} from '../../server/requests/proxy-headers.js';

const OURS = 'pulseboard_token';

describe('proxy headers: what reaches the upstream', () => {
  it.each([
    ['theme=dark; pulseboard_token=s3cret; session=abc', 'theme=dark; session=abc'],
    ['pulseboard_token=s3cret', undefined],
    ['pulseboard_token=a; pulseboard_token=b', undefined],
    [' pulseboard_token = s3cret ;theme=dark', 'theme=dark'],
    ['xpulseboard_token=1; pulseboard_token2=2; pulseboard_tokenx=3', 'xpulseboard_token=1; pulseboard_token2=2; pulseboard_tokenx=3'],
    ['PULSEBOARD_TOKEN=other-app', 'PULSEBOARD_TOKEN=other-app'],
    ['session=pulseboard_token=1', 'session=pulseboard_token=1'],
    ['', undefined],
  ])('strips our cookie and only ours from %j', (header, expected) => {
    expect(withoutCookie(header, OURS)).toBe(expected);
  });

  it('drops hop-by-hop headers and the ones Connection names, in any case and across repeated headers', () => {
    const kept = endToEndHeaders({
      connection: 'keep-alive, X-Internal ,x-other',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic eA==',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      'x-internal': 'secret',
      'x-other': '1',
      accept: 'text/html',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(kept).toEqual({ accept: 'text/html', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('sends the client address on, keeps every other cookie and never our Host', () => {
    const headers = upstreamRequestHeaders({
      headers: { host: 'app.example:8081', cookie: 'a=1; pulseboard_token=s3cret', 'x-forwarded-for': '10.0.0.9', accept: '*/*' },
      remoteAddress: '127.0.0.1',
      privateCookie: OURS,
    });
    expect(headers).toEqual({
      cookie: 'a=1',
      accept: '*/*',
      'x-forwarded-for': '10.0.0.9, 127.0.0.1',
      'x-forwarded-host': 'app.example:8081',
      'x-forwarded-proto': 'http',
    });
    const onlyOurs = upstreamRequestHeaders({ headers: { cookie: 'pulseboard_token=s3cret' }, remoteAddress: '::1', privateCookie: OURS });
    expect(onlyOurs).not.toHaveProperty('cookie');
  });

  it.each([
    ['GET', '/users/7?x=1', '/users/7?x=1'],
    ['GET', '//double/slash', '//double/slash'],
    ['GET', 'http://evil.example/admin?x=1', '/admin?x=1'],
    ['GET', 'HTTPS://evil.example:8443', '/'],
    ['GET', 'http://evil.example/a/../b', '/b'],
    ['OPTIONS', '*', '*'],
    ['GET', '*', null],
    ['CONNECT', 'evil.example:443', null],
    ['GET', 'evil', null],
    ['GET', 'http://[bad', null],
  ])('sends %s %j upstream as %j', (method, target, expected) => {
    expect(originFormTarget(method, target)).toBe(expected);
  });
});

describe('proxy headers: what reaches the client', () => {
  it("drops an upstream Set-Cookie of the dashboard's cookie and keeps every other one", () => {
    const headers = downstreamResponseHeaders(
      {
        'set-cookie': ['pulseboard_token=planted; Path=/', 'session=abc; HttpOnly', ' pulseboard_token =x', 'pulseboard_token_other=1'],
        'content-type': 'text/plain',
        connection: 'keep-alive',
      },
      'pulseboard_token',
    );
    expect(headers).toEqual({ 'set-cookie': ['session=abc; HttpOnly', 'pulseboard_token_other=1'], 'content-type': 'text/plain' });
    expect(downstreamResponseHeaders({ 'set-cookie': ['pulseboard_token=planted'] }, 'pulseboard_token')).toEqual({});
  });
});
