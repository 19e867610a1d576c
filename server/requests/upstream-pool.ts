import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** Whoever holds an upstream connection for an exchange: it gets the connection's events. */
export interface UpstreamOwner {
  /** `chunk` is valid during the call only: the pool reads every connection into one buffer. */
  onUpstreamData(link: UpstreamLink, chunk: Buffer): void;
  onUpstreamDrain(link: UpstreamLink): void;
  onUpstreamClose(link: UpstreamLink): void;
}

/** One connection to the upstream, lent to one exchange at a time. */
export interface UpstreamLink {
  readonly socket: Socket;
  owner: UpstreamOwner | null;
  /** When it was last given back (performance.now()); 0 while lent. */
  idleSince: number;
  /** Whether it served an exchange before this one: such a connection may have been closed by the upstream meanwhile. */
  reused: boolean;
  /** The connection's last error (refused, TLS verification...): why it closed, if it did on an error. */
  error: NodeJS.ErrnoException | null;
}

/** Kept idle connections: more than this many idle at once are closed as they are given back. */
const MAX_IDLE = 256;

/**
 * Keep-alive connections to the upstream (plain TCP, or TLS for an https target), reused most recently
 * given back first. An idle one is dropped after `keepAliveMs`, shorter than Node's own 5 s keep-alive so
 * the upstream rarely closes one just as it is reused. Listeners are attached once per connection: lending
 * it only changes its owner.
 */
export class UpstreamPool {
  private readonly idle: UpstreamLink[] = [];
  private readonly all = new Set<UpstreamLink>();
  private readonly host: string;
  private readonly port: number;
  private readonly tls: boolean;
  /** Every connection reads into this one buffer (`onread`): no Buffer allocated per read. */
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);

  constructor(
    target: URL,
    private readonly keepAliveMs = 4_000,
  ) {
    this.tls = target.protocol === 'https:';
    this.host = target.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(target.port) || (this.tls ? 443 : 80);
  }

  /** An idle connection if one is fresh enough, else a new one. */
  acquire(owner: UpstreamOwner, now: number): UpstreamLink {
    while (this.idle.length > 0) {
      const link = this.idle.pop() as UpstreamLink;
      if (link.socket.destroyed || now - link.idleSince > this.keepAliveMs) {
        link.socket.destroy();
        continue;
      }
      link.owner = owner;
      link.idleSince = 0;
      link.reused = true;
      return link;
    }
    return this.connect(owner);
  }

  /** A connection of its own (an `Upgrade` takes its connection away; a retry must not meet a stale one). */
  connect(owner: UpstreamOwner): UpstreamLink {
    const received = (chunk: Buffer) => {
      if (link.owner) link.owner.onUpstreamData(link, chunk);
      else socket.destroy(); // an idle connection has nothing to say
    };
    const onread = {
      buffer: this.readBuffer,
      callback: (length: number, buffer: Uint8Array) => {
        received((buffer as Buffer).subarray(0, length));
        return true; // pausing is done with pause(), which onread honours
      },
    };
    const socket = this.tls
      ? // SNI carries host names only (RFC 6066): an IP address as servername is refused with a warning.
        tlsConnect({ host: this.host, port: this.port, servername: isIP(this.host) ? '' : this.host }).on('data', received)
      : netConnect({ host: this.host, port: this.port, onread });
    socket.setNoDelay(true);
    const link: UpstreamLink = { socket, owner, idleSince: 0, reused: false, error: null };
    this.all.add(link);
    socket.on('drain', () => link.owner?.onUpstreamDrain(link));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      link.error = error; // 'close' follows
    });
    socket.on('close', () => {
      this.all.delete(link);
      const at = this.idle.indexOf(link);
      if (at >= 0) this.idle.splice(at, 1);
      const owner = link.owner;
      link.owner = null;
      owner?.onUpstreamClose(link);
    });
    return link;
  }

  /** Given back after a complete exchange, ready for the next. */
  release(link: UpstreamLink, now: number): void {
    link.owner = null;
    if (link.socket.destroyed || this.idle.length >= MAX_IDLE) {
      link.socket.destroy();
      return;
    }
    link.idleSince = now;
    link.socket.resume(); // paused for a slow client, perhaps: idle, it must still see the upstream close
    this.idle.push(link);
  }

  /** Closes every connection, lent or idle. */
  closeAll(): void {
    for (const link of this.all) link.socket.destroy();
  }
}
