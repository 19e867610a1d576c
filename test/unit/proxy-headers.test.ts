import { describe, expect, it } from 'vitest';
import { downstreamResponseHead, upstreamRequestHead } from '../../server/requests/forwarded-heads.js';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from '../../server/requests/http-head.js';
import { originFormTarget, withoutCookie } from '../../server/requests/proxy-headers.js';

const OURS = 'pulseboard_token';

/** A written head's headers as [name, value] pairs, in order, its first line and final empty line left out. */
function headersOf(head: string): [string, string][] {
  expect(head.endsWith('\r\n\r\n')).toBe(true);
  return head
    .slice(0, -4)
    .split('\r\n')
    .slice(1)
    .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]);
}

function request(lines: string[]): RequestHead {
  const parsed = parseRequestHead(['GET /x HTTP/1.1', ...lines].join('\r\n'));
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

function response(lines: string[]): ResponseHead {
  const parsed = parseResponseHead(['HTTP/1.1 200 OK', ...lines].join('\r\n'));
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

const upstream = (head: RequestHead) =>
  headersOf(
    upstreamRequestHead({
      request: head,
      path: '/x',
      upstreamHost: '127.0.0.1:8081',
      remoteAddress: '127.0.0.1',
      privateCookie: OURS,
      upgrade: false,
    }),
  );
const downstream = (head: ResponseHead) =>
  headersOf(downstreamResponseHead({ response: head, statusText: '200 OK', privateCookie: OURS, close: false, upgrade: false }));

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
    const kept = downstream(
      response([
        'Connection: keep-alive, X-Internal ,x-other',
        'Keep-Alive: timeout=5',
        'Proxy-Authenticate: Basic',
        'Proxy-Connection: keep-alive',
        'Trailer: x',
        'Upgrade: h2c',
        'X-Internal: secret',
        'x-other: 1',
        'Content-Type: text/html',
        'Set-Cookie: a=1',
        'Set-Cookie: b=2',
        'Content-Length: 0',
      ]),
    );
    expect(kept).toEqual([
      ['content-type', 'text/html'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['content-length', '0'],
    ]);
  });

  it('sends the client address on, keeps every other cookie, and sets Host and X-Forwarded-Host/Proto itself', () => {
    const headers = upstream(
      request([
        'Host: app.example:8081',
        'Cookie: a=1; pulseboard_token=s3cret',
        'X-Forwarded-For: 10.0.0.9',
        'X-Forwarded-Proto: https',
        'X-Forwarded-Host: evil.example',
        'TE: trailers',
        'Proxy-Authorization: Basic eA==',
        'Accept: */*',
      ]),
    );
    expect(headers).toEqual([
      ['host', '127.0.0.1:8081'],
      ['cookie', 'a=1'],
      ['accept', '*/*'],
      ['x-forwarded-for', '10.0.0.9, 127.0.0.1'],
      ['x-forwarded-host', 'app.example:8081'],
      ['x-forwarded-proto', 'http'],
    ]);
    const onlyOurs = upstream(request(['Host: a', 'Cookie: pulseboard_token=s3cret']));
    expect(onlyOurs.map(([name]) => name)).not.toContain('cookie');
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
    const headers = downstream(
      response([
        'Set-Cookie: pulseboard_token=planted; Path=/',
        'Set-Cookie: session=abc; HttpOnly',
        'Set-Cookie:  pulseboard_token =x',
        'Set-Cookie: pulseboard_token_other=1',
        'Content-Type: text/plain',
        'Connection: keep-alive',
      ]),
    );
    expect(headers).toEqual([
      ['set-cookie', 'session=abc; HttpOnly'],
      ['set-cookie', 'pulseboard_token_other=1'],
      ['content-type', 'text/plain'],
    ]);
    expect(downstream(response(['Set-Cookie: pulseboard_token=planted']))).toEqual([]);
  });
});
