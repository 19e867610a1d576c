import type { Socket } from 'node:net';
import type { ConnectionTimeouts } from '../lib/connection-timeouts.js';
import { CHUNKED_INVALID, CHUNKED_MORE, ChunkedBody } from './chunked-body.js';
import { downstreamResponseHead, proxyAnswer, upstreamRequestHead } from './forwarded-heads.js';
import { MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, type ResponseHead } from './http-head.js';
import { originFormTarget } from './proxy-headers.js';
import type { ProxyOptions } from './raw-proxy.js';
import type { RouteCache } from './route-groups.js';
import type { RequestStats } from './stats.js';
import { statusClassOf } from './stats.js';
import type { UpstreamLink, UpstreamOwner, UpstreamPool } from './upstream-pool.js';

const HEAD_END = Buffer.from('\r\n\r\n');
/** An upstream's response head is refused (502) past this. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** Where a client connection is. The request and the response of an exchange advance apart. */
enum Phase {
  /** Waiting for (the rest of) a request head. */
  Head,
  /** The request body is being forwarded. */
  Body,
  /** The request is forwarded whole; its response is on its way. */
  Sent,
  /** Switched protocols: bytes flow both ways untouched. */
  Tunnel,
  Closed,
}

/** What all connections of one proxy share. */
export interface Shared {
  options: ProxyOptions;
  timeouts: ConnectionTimeouts;
  stats: RequestStats;
  pool: UpstreamPool;
  routes: RouteCache;
  upstreamHost: string;
  /** Why an upstream connection failed (its error), said to the client and, once a minute at most, in the log. */
  upstreamFailed: (error: NodeJS.ErrnoException | null) => string;
  silent: string;
  unforwardable: string;
}

/** A body this small goes out in the same write as its head, as latin1 text (one character per byte). */
const SMALL_BODY = 16 * 1024;
/** Silence on a WebSocket tunnel before the first keep-alive probe (then Linux's own: 9 probes 75 s apart). */
const TUNNEL_KEEPALIVE_MS = 60_000;

/**
 * `head` and the bytes `chunk[from, end)` in one write: a syscall, not a corked writev, for the usual small
 * message. A `borrowed` chunk (the upstream pool's read buffer) is copied before it is queued.
 */
function writeHeadAnd(socket: Socket, head: string | null, chunk: Buffer, from: number, end: number, borrowed: boolean): boolean {
  if (head !== null && end - from <= SMALL_BODY) return socket.write(head + chunk.toString('latin1', from, end), 'latin1');
  const bytes = borrowed ? Buffer.from(chunk.subarray(from, end)) : from === 0 && end === chunk.length ? chunk : chunk.subarray(from, end);
  if (head === null) return socket.write(bytes);
  socket.cork();
  socket.write(head, 'latin1');
  const flowing = socket.write(bytes);
  socket.uncork();
  return flowing;
}

function pathnameOf(path: string): string {
  const query = path.indexOf('?');
  return query < 0 ? path : path.slice(0, query);
}

/** EventSource always asks for `text/event-stream`: such requests are streams, long by design, not measured. */
function wantsEventStream(headers: string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'accept' && (headers[i + 1] as string).includes('text/event-stream')) return true;
  }
  return false;
}

/**
 * One client connection: reads request heads itself, forwards each exchange over a pooled upstream
 * connection and its bodies as bytes by their framing, one exchange at a time. Pipelined requests wait in
 * `pending` (read no further than one head's worth) and are answered in order.
 */
export class ProxiedConnection implements UpstreamOwner {
  phase = Phase.Head;
  /** Client bytes not yet taken: the next head, pipelined requests, or an upgrade's first bytes. */
  private pending: Buffer | null = null;
  /** Where the search for the head's end resumes in `pending`. */
  private scanFrom = 0;
  /** When the connection began waiting for its current head (performance.now()). */
  waitingSince: number;
  private served = 0;

  // The exchange in progress.
  private upstream: UpstreamLink | null = null;
  private upstreamHead = '';
  private retried = false;
  private hasBody = false;
  private bodyLeft = 0;
  private bodyChunks: ChunkedBody | null = null;
  private minorVersion = 1;
  private isHead = false;
  private upgrade = false;
  private closeAfter = false;
  private responseBuffer: Buffer | null = null;
  private responseStarted = false;
  private responseStatus = 0;
  private responseLeft = 0;
  private responseChunks: ChunkedBody | null = null;
  private responseUntilClose = false;
  private reusable = false;
  private measured = false;
  private route = '';
  private started = 0;
  /** Bytes written to the client for this exchange, its head included. */
  private sent = 0;

  // Flow control: who waits on whom.
  private clientHeldForUpstream = false;
  private clientHeldForPipeline = false;
  private upstreamHeldForClient = false;

  // The sweep's view of progress.
  private lastClientBytes = 0;
  clientMovedAt: number;
  private lastExchangeBytes = 0;
  private exchangeMovedAt = 0;

  constructor(
    readonly client: Socket,
    private readonly shared: Shared,
    now: number,
  ) {
    this.waitingSince = now;
    this.clientMovedAt = now;
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      try {
        this.onClientData(chunk);
      } catch (error) {
        this.crashed(error);
      }
    });
    client.on('drain', () => this.onClientDrain());
    client.on('end', () => this.onClientEnd());
    client.on('error', () => {}); // 'close' follows
    client.on('close', () => this.onClientClose());
  }

  private onClientData(chunk: Buffer): void {
    switch (this.phase) {
      case Phase.Head:
        this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
        this.nextRequest();
        return;
      case Phase.Body:
        this.forwardBody(chunk, 0);
        return;
      case Phase.Sent:
        this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
        if (this.pending.length > MAX_HEAD_BYTES && !this.clientHeldForPipeline) {
          this.clientHeldForPipeline = true;
          this.client.pause();
        }
        return;
      case Phase.Tunnel:
        if (this.upstream !== null && !this.upstream.socket.write(chunk)) this.holdClient();
        return;
      default:
        return;
    }
  }

  /** Takes the next request from `pending` once its head is complete. */
  private nextRequest(): void {
    let buffer = this.pending;
    if (buffer === null) return;
    // Empty lines before a request line are ignored (RFC 9112 §2.2): some clients send one after a body.
    let start = 0;
    while (start + 1 < buffer.length && buffer[start] === 0x0d && buffer[start + 1] === 0x0a) start += 2;
    if (start > 0) {
      buffer = start === buffer.length ? null : buffer.subarray(start);
      this.pending = buffer;
      this.scanFrom = 0;
      if (buffer === null) return;
    }
    const end = buffer.indexOf(HEAD_END, this.scanFrom);
    if (end < 0 || end > MAX_HEAD_BYTES) {
      if (buffer.length > MAX_HEAD_BYTES) this.refuseHead(431, 'the request head is larger than 16 KiB');
      else this.scanFrom = Math.max(0, buffer.length - 3);
      return;
    }
    this.pending = end + 4 < buffer.length ? buffer.subarray(end + 4) : null;
    this.scanFrom = 0;
    this.startExchange(buffer.toString('latin1', 0, end));
  }

  private startExchange(head: string): void {
    const { shared } = this;
    const request = parseRequestHead(head);
    if (typeof request === 'string') {
      this.refuseHead(400, `the request has ${request}`);
      return;
    }
    this.started = performance.now();
    const path = originFormTarget(request.method, request.target);
    this.measured = !wantsEventStream(request.headers);
    this.route = shared.routes.routeOf(request.method, pathnameOf(path ?? '/'));
    this.sent = 0;
    this.responseStatus = 0;
    this.responseStarted = false;
    if (this.measured) shared.stats.requestStarted();
    const connection = request.connection;
    this.minorVersion = request.minorVersion;
    this.closeAfter = request.minorVersion === 0 || connection?.includes('close') === true;
    if (path === null) {
      this.answer(400, 'the request target must be a path or an absolute URL');
      return;
    }
    // An empty Upgrade names no protocol: nothing to switch to.
    this.upgrade = Boolean(request.upgrade) && connection?.includes('upgrade') === true;
    this.isHead = request.method === 'HEAD';
    this.hasBody = request.chunked || request.contentLength > 0;
    this.bodyLeft = request.chunked ? 0 : Math.max(0, request.contentLength);
    this.bodyChunks = request.chunked ? new ChunkedBody() : null;
    this.responseBuffer = null;
    this.responseChunks = null;
    this.responseUntilClose = false;
    this.reusable = false;
    this.retried = false;
    this.upstreamHead = upstreamRequestHead({
      request,
      path,
      upstreamHost: shared.upstreamHost,
      remoteAddress: this.client.remoteAddress ?? '',
      privateCookie: shared.options.privateCookie,
      upgrade: this.upgrade,
    });
    this.exchangeMovedAt = this.started;
    this.lastExchangeBytes = -1;
    const link = this.upgrade ? shared.pool.connect(this) : shared.pool.acquire(this, this.started);
    this.upstream = link;
    const socket = link.socket;
    if (!this.hasBody) {
      this.phase = Phase.Sent;
      socket.write(this.upstreamHead, 'latin1');
      return;
    }
    this.phase = Phase.Body;
    const rest = this.pending;
    this.pending = null;
    if (rest === null) socket.write(this.upstreamHead, 'latin1');
    else this.forwardBody(rest, 0, this.upstreamHead);
  }

  /** Request body bytes, by the request's framing; what lies past its end waits in `pending`. */
  private forwardBody(chunk: Buffer, from: number, head: string | null = null): void {
    const link = this.upstream;
    if (link === null) return;
    let end: number;
    if (this.bodyChunks !== null) {
      const at = this.bodyChunks.feed(chunk, from);
      if (at === CHUNKED_INVALID) {
        this.fail(400, 'the request has a malformed chunked body');
        return;
      }
      end = at === CHUNKED_MORE ? chunk.length : at;
    } else {
      end = Math.min(chunk.length, from + this.bodyLeft);
      this.bodyLeft -= end - from;
    }
    const flowing = writeHeadAnd(link.socket, head, chunk, from, end, false);
    if (this.bodyChunks !== null ? this.bodyChunks.done : this.bodyLeft === 0) {
      this.phase = Phase.Sent;
      if (end < chunk.length) this.pending = chunk.subarray(end);
    }
    if (!flowing) this.holdClient();
  }

  /** `chunk` is the pool's read buffer, valid during this call only: what is kept or queued is copied. */
  onUpstreamData(link: UpstreamLink, chunk: Buffer): void {
    if (link !== this.upstream) return;
    try {
      this.takeUpstreamData(chunk);
    } catch (error) {
      this.crashed(error);
    }
  }

  /** A bug of ours costs the connection it happened on, never the process: said in one line. */
  private crashed(error: unknown): void {
    process.stderr.write(
      `pulseboard: proxy: a connection closed on an internal error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    this.client.destroy();
    const link = this.upstream;
    this.upstream = null;
    if (link !== null) {
      link.owner = null;
      link.socket.destroy();
    }
  }

  private takeUpstreamData(chunk: Buffer): void {
    if (this.phase === Phase.Tunnel) {
      this.sent += chunk.length;
      if (!this.client.write(Buffer.from(chunk))) this.holdUpstream();
      return;
    }
    if (this.responseStarted) {
      this.forwardResponse(chunk, 0);
      return;
    }
    let buffer = this.responseBuffer === null ? chunk : Buffer.concat([this.responseBuffer, chunk]);
    // 1xx heads (100 Continue, 103 Early Hints) go on as they come; the final head follows them.
    for (;;) {
      const end = buffer.indexOf(HEAD_END);
      if (end < 0) {
        if (buffer.length > MAX_RESPONSE_HEAD_BYTES) this.fail(502, this.shared.unforwardable);
        else this.responseBuffer = buffer === chunk ? Buffer.from(chunk) : buffer;
        return;
      }
      const text = buffer.toString('latin1', 0, end);
      const response = parseResponseHead(text);
      const rest = buffer.subarray(end + 4);
      if (typeof response === 'string' || (response.status === 101 && !this.upgrade)) {
        this.fail(502, this.shared.unforwardable);
        return;
      }
      const lineEnd = text.indexOf('\r\n');
      const statusText = text.slice(9, lineEnd < 0 ? text.length : lineEnd);
      if (response.status === 101) {
        this.switchProtocols(response, statusText, rest);
        return;
      }
      if (response.status >= 200) {
        this.responseBuffer = null;
        this.startResponse(response, statusText, rest);
        return;
      }
      const privateCookie = this.shared.options.privateCookie;
      const informational = downstreamResponseHead({ response, statusText, privateCookie, close: false, upgrade: false });
      this.sent += informational.length;
      this.client.write(informational, 'latin1');
      if (rest.length === 0) {
        this.responseBuffer = null;
        return;
      }
      buffer = rest;
    }
  }

  private startResponse(response: ResponseHead, statusText: string, rest: Buffer): void {
    const status = response.status;
    this.responseStatus = status;
    this.responseStarted = true;
    const noBody = this.isHead || status === 204 || status === 304;
    if (noBody) this.responseLeft = 0;
    else if (response.chunked) this.responseChunks = new ChunkedBody();
    else if (response.contentLength >= 0) this.responseLeft = response.contentLength;
    else this.responseUntilClose = true;
    const upstreamCloses = response.minorVersion === 0 || response.connection?.includes('close');
    this.reusable = !upstreamCloses && !this.responseUntilClose && this.minorVersion === 1 && !this.upgrade;
    // Answered while the request body is still coming (a 413, say): the rest of it is never read.
    if (this.responseUntilClose || this.upgrade || this.phase === Phase.Body) this.closeAfter = true;
    const head = downstreamResponseHead({
      response,
      statusText,
      privateCookie: this.shared.options.privateCookie,
      close: this.closeAfter,
      upgrade: false,
    });
    if (noBody || (this.responseChunks === null && !this.responseUntilClose && this.responseLeft === 0)) {
      this.sent += head.length;
      this.client.write(head, 'latin1');
      if (rest.length > 0) this.reusable = false; // bytes past the message: that connection cannot be trusted
      this.endExchange();
      return;
    }
    if (rest.length > 0) this.forwardResponse(rest, 0, head);
    else {
      this.sent += head.length;
      this.client.write(head, 'latin1');
    }
  }

  /** Response body bytes, by the response's framing. */
  private forwardResponse(chunk: Buffer, from: number, head: string | null = null): void {
    let end: number;
    let complete: boolean;
    if (this.responseUntilClose) {
      end = chunk.length;
      complete = false;
    } else if (this.responseChunks !== null) {
      const at = this.responseChunks.feed(chunk, from);
      if (at === CHUNKED_INVALID) {
        this.client.destroy(); // the client has the head already: cut short is all it can be told
        return;
      }
      complete = at !== CHUNKED_MORE;
      end = complete ? at : chunk.length;
    } else {
      end = Math.min(chunk.length, from + this.responseLeft);
      this.responseLeft -= end - from;
      complete = this.responseLeft === 0;
    }
    this.sent += (head === null ? 0 : head.length) + end - from;
    const flowing = writeHeadAnd(this.client, head, chunk, from, end, true);
    if (complete) {
      if (end < chunk.length) this.reusable = false;
      this.endExchange();
    } else if (!flowing) this.holdUpstream();
  }

  /** The exchange is over: counted, its upstream connection given back (or closed), the next request read. */
  private endExchange(): void {
    const now = performance.now();
    const { shared } = this;
    if (this.measured) {
      this.measured = false;
      shared.stats.requestEnded(this.route, statusClassOf(this.responseStatus), now - this.started, this.sent);
    }
    const link = this.upstream;
    this.upstream = null;
    if (link !== null) {
      this.releaseUpstream(link);
      if (this.reusable && this.phase === Phase.Sent) shared.pool.release(link, now);
      else {
        link.owner = null;
        link.socket.destroy();
      }
    }
    this.served++;
    if (this.closeAfter || this.phase !== Phase.Sent) {
      this.phase = Phase.Closed;
      this.client.destroySoon(); // ends our side, and closes once it is flushed
      return;
    }
    this.phase = Phase.Head;
    this.waitingSince = now;
    if (this.clientHeldForPipeline) {
      this.clientHeldForPipeline = false;
      if (!this.clientHeldForUpstream) this.client.resume();
    }
    if (this.pending !== null) this.nextRequest();
  }

  private switchProtocols(response: ResponseHead, statusText: string, rest: Buffer): void {
    const link = this.upstream as UpstreamLink;
    this.responseStatus = response.status;
    this.responseStarted = true;
    this.phase = Phase.Tunnel;
    const head = downstreamResponseHead({
      response,
      statusText,
      privateCookie: this.shared.options.privateCookie,
      close: false,
      upgrade: true,
    });
    this.sent += head.length + rest.length;
    // A tunnel may be silent for hours and has no idle timeout; a peer that vanished without closing (a laptop
    // shut, a network gone) is found by the kernel's keep-alive probes instead, and both sockets then close.
    this.client.setKeepAlive(true, TUNNEL_KEEPALIVE_MS);
    link.socket.setKeepAlive(true, TUNNEL_KEEPALIVE_MS);
    this.client.write(head, 'latin1');
    if (rest.length > 0) this.client.write(Buffer.from(rest));
    if (this.pending !== null) {
      link.socket.write(this.pending);
      this.pending = null;
    }
    if (this.clientHeldForPipeline) {
      this.clientHeldForPipeline = false;
      if (!this.clientHeldForUpstream) this.client.resume();
    }
  }

  onUpstreamDrain(link: UpstreamLink): void {
    if (link === this.upstream && this.clientHeldForUpstream) {
      this.clientHeldForUpstream = false;
      if (!this.clientHeldForPipeline) this.client.resume();
    }
  }

  private onClientDrain(): void {
    if (this.upstreamHeldForClient) {
      this.upstreamHeldForClient = false;
      this.upstream?.socket.resume();
    }
  }

  private holdClient(): void {
    this.clientHeldForUpstream = true;
    this.client.pause();
  }

  private holdUpstream(): void {
    if (this.upstream === null) return;
    this.upstreamHeldForClient = true;
    this.upstream.socket.pause();
  }

  /** Unhooks the exchange's flow control from an upstream connection it is done with. */
  private releaseUpstream(link: UpstreamLink): void {
    if (this.upstreamHeldForClient) {
      this.upstreamHeldForClient = false;
      link.socket.resume();
    }
    if (this.clientHeldForUpstream) {
      this.clientHeldForUpstream = false;
      if (!this.clientHeldForPipeline) this.client.resume();
    }
  }

  onUpstreamClose(link: UpstreamLink): void {
    if (link !== this.upstream) return;
    this.upstream = null;
    if (this.phase === Phase.Tunnel) {
      this.client.destroySoon();
      return;
    }
    if (this.responseStarted) {
      if (this.responseUntilClose) {
        this.endExchange();
        return;
      }
      this.client.destroy(); // cut short: the client must not take it for the whole response
      return;
    }
    // A kept-alive connection the upstream closed just as it was reused: the request went nowhere, so a
    // request without a body is sent again, once, on a new connection.
    if (link.reused && !this.retried && !this.hasBody && this.responseBuffer === null && this.phase === Phase.Sent) {
      this.retried = true;
      const fresh = this.shared.pool.connect(this);
      this.upstream = fresh;
      fresh.socket.write(this.upstreamHead, 'latin1');
      return;
    }
    this.answer(502, this.shared.upstreamFailed(link.error));
  }

  private onClientEnd(): void {
    // The client sends no more; an exchange under way is still answered, then the connection closes.
    if (this.phase === Phase.Tunnel) this.upstream?.socket.end();
    else if (this.phase === Phase.Head) {
      this.phase = Phase.Closed;
      this.client.end();
    } else this.closeAfter = true;
  }

  private onClientClose(): void {
    const now = performance.now();
    if (this.measured) {
      this.measured = false;
      const status = this.phase === Phase.Tunnel ? statusClassOf(this.responseStatus) : 'aborted';
      const bytes = this.phase === Phase.Tunnel ? this.sent : 0;
      this.shared.stats.requestEnded(this.route, status, now - this.started, bytes);
    }
    this.phase = Phase.Closed;
    const link = this.upstream;
    this.upstream = null;
    if (link !== null) {
      link.owner = null;
      link.socket.destroy();
    }
  }

  /** An answer of the proxy's own for the exchange under way; the connection closes after it. */
  private answer(status: number, body: string): void {
    const link = this.upstream;
    this.upstream = null;
    if (link !== null) {
      link.owner = null;
      link.socket.destroy();
    }
    this.responseStatus = status;
    this.closeAfter = true;
    const answer = proxyAnswer(status, body);
    this.sent += answer.length;
    this.client.write(answer, 'latin1');
    this.endExchange();
  }

  /** The exchange cannot go on: an answer if the client has no response head yet, else a cut connection. */
  private fail(status: number, reason: string): void {
    if (this.responseStarted) this.client.destroy();
    else this.answer(status, reason);
  }

  /** A head that is no request: answered and closed, not counted (no route to count it under). */
  private refuseHead(status: number, reason: string): void {
    this.phase = Phase.Closed;
    this.pending = null;
    this.client.write(proxyAnswer(status, reason), 'latin1');
    this.client.destroySoon();
  }

  /**
   * Timeouts, checked every few hundred ms instead of timers per request: a head that takes too long, a
   * kept-alive connection left unused, a connection with no byte either way, and an upstream that keeps an
   * exchange waiting with nothing moving while the client is not the slow side.
   */
  sweep(now: number): void {
    const { client, shared } = this;
    const { timeouts } = shared;
    if (this.phase === Phase.Closed) return;
    const clientBytes = client.bytesRead + client.bytesWritten;
    if (clientBytes !== this.lastClientBytes) {
      this.lastClientBytes = clientBytes;
      this.clientMovedAt = now;
    }
    if (this.phase === Phase.Tunnel) return;
    if (this.phase === Phase.Head) {
      const idleBetween = this.served > 0 && this.pending === null;
      const limit = idleBetween ? timeouts.keepAliveMs : timeouts.headersMs;
      if (limit > 0 && now - this.waitingSince > limit) client.destroy();
      return;
    }
    if (timeouts.idleMs > 0 && now - this.clientMovedAt > timeouts.idleMs) {
      client.destroy();
      return;
    }
    const link = this.upstream;
    if (link === null) return;
    const exchangeBytes = link.socket.bytesRead + client.bytesWritten + client.bytesRead;
    // A client not reading our response, or one still to send its upload, is the slow side.
    const clientIsSlow = this.upstreamHeldForClient || (this.phase === Phase.Body && !this.clientHeldForUpstream);
    if (exchangeBytes !== this.lastExchangeBytes || clientIsSlow) {
      this.lastExchangeBytes = exchangeBytes;
      this.exchangeMovedAt = now;
      return;
    }
    if (now - this.exchangeMovedAt >= shared.options.timeoutMs) this.fail(504, shared.silent);
  }

  close(): void {
    this.client.destroy();
  }
}
