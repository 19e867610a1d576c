import type { IncomingMessage } from 'node:http';
import { request as httpRequest, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxyOptions } from './proxy.js';
import { downstreamResponseHeaders, originFormTarget, upstreamRequestHeaders } from './proxy-headers.js';
import { RouteCache } from './route-groups.js';
import { type RequestStats, statusClassOf } from './stats.js';

/** A response head as bytes for a socket that no longer speaks through Node's HTTP server. */
function head(status: number, headers: [string, string][]): string {
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/** `[name, value]` pairs of a response's headers, a header with several values once per value. */
function pairs(headers: Record<string, string | string[] | number | undefined>): [string, string][] {
  const result: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) result.push([name, String(one)]);
  }
  return result;
}

function refuse(client: Duplex, status: number, error: string): void {
  const body = JSON.stringify({ error });
  const headers: [string, string][] = [
    ['content-type', 'application/json'],
    ['content-length', String(Buffer.byteLength(body))],
    ['connection', 'close'],
  ];
  client.end(head(status, headers) + body);
}

/**
 * WebSocket (and any other `Upgrade`) requests: forwarded on a connection of their own to the upstream
 * (never the keep-alive pool's: the socket is handed over). When the upstream switches protocols, its 101
 * goes back and the bytes are piped both ways until either side closes; the whole connection counts as one
 * request (`1xx`, its duration the connection's). An upstream that answers otherwise has its answer passed
 * on and the connection closed; one that cannot be reached gets the client a 502.
 */
export function forwardUpgrade(
  options: ProxyOptions,
  stats: RequestStats,
): (incoming: IncomingMessage, client: Duplex, head: Buffer) => void {
  const { target, privateCookie } = options;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const routes = new RouteCache();
  return (incoming, client, clientHead) => {
    const method = incoming.method ?? 'GET';
    const path = originFormTarget(method, incoming.url ?? '');
    if (path === null) {
      refuse(client, 400, 'the request target must be a path or an absolute URL');
      return;
    }
    const route = routes.routeOf(method, path.split('?', 1)[0] ?? '/');
    const started = performance.now();
    stats.requestStarted();
    let counted = false;
    const count = (status: number | 'aborted', bytes: number) => {
      if (counted) return;
      counted = true;
      stats.requestEnded(route, status === 'aborted' ? 'aborted' : statusClassOf(status), performance.now() - started, bytes);
    };

    const headers = upstreamRequestHeaders({
      headers: incoming.headers,
      remoteAddress: incoming.socket.remoteAddress ?? '',
      privateCookie,
    });
    // Hop-by-hop as they are, these two are the request itself here.
    headers.connection = 'upgrade';
    headers.upgrade = incoming.headers.upgrade;
    const upstream = send({ protocol: target.protocol, hostname: target.hostname, port: target.port, method, path, headers, agent: false });
    client.on('error', () => upstream.destroy());
    let upgraded = false;
    client.on('close', () => {
      upstream.destroy();
      if (!upgraded) count('aborted', 0);
    });

    upstream.on('upgrade', (response, socket, upstreamHead) => {
      upgraded = true;
      const kept = downstreamResponseHeaders(response.headers, privateCookie);
      client.write(
        head(response.statusCode ?? 101, [['connection', 'upgrade'], ['upgrade', String(response.headers.upgrade ?? '')], ...pairs(kept)]),
      );
      if (upstreamHead.length > 0) client.write(upstreamHead);
      if (clientHead.length > 0) socket.write(clientHead);
      const bytesBefore = (client as Socket).bytesWritten;
      const close = () => {
        count(response.statusCode ?? 101, (client as Socket).bytesWritten - bytesBefore);
        socket.destroy();
        client.destroy();
      };
      socket.on('close', close);
      socket.on('error', close);
      client.on('close', close);
      socket.pipe(client);
      client.pipe(socket);
    });
    upstream.on('response', (response) => {
      // Not switched: the answer goes back as it is, and the connection ends with it.
      const kept = downstreamResponseHeaders(response.headers, privateCookie);
      delete kept['content-length'];
      client.write(head(response.statusCode ?? 502, [...pairs(kept), ['connection', 'close']]));
      response.pipe(client);
      response.on('end', () => count(response.statusCode ?? 502, 0));
    });
    upstream.on('error', () => {
      if (counted) return;
      refuse(client, 502, `upstream ${target.origin} is unreachable`);
      count(502, 0);
    });
    upstream.end();
  };
}
