import { createServer, type IncomingHttpHeaders } from 'node:http';
import { SMTPServer } from 'smtp-server';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when it arrived. */
  at: number;
}

/**
 * A real HTTP receiver on 127.0.0.1, port 0, that records every request. `answer` gives each one's status,
 * or null to hold it unanswered (a hung service). Returns its base URL and a close function.
 */
export async function httpReceiver(answer: (index: number) => number | null = () => 200) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const index = received.length;
      received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, at: Date.now() });
      const status = answer(index);
      if (status !== null) response.writeHead(status, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | null;
  /** True when the message came over TLS (after STARTTLS). */
  secure: boolean;
  /** The message as sent (headers and body), line endings CRLF. */
  raw: string;
  at: number;
}

/**
 * A real SMTP server on 127.0.0.1, port 0 (smtp-server, from nodemailer's authors). Without `tls`, login
 * goes over plain text and STARTTLS is not offered; with it, STARTTLS is offered and login needs it.
 */
export async function smtpSink(login: { user: string; password: string } | null = null, tls: { key: Buffer; cert: Buffer } | null = null) {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    ...(tls ? { key: tls.key, cert: tls.cert } : { disabledCommands: ['STARTTLS'] }),
    authOptional: login === null,
    allowInsecureAuth: tls === null,
    logger: false,
    onAuth(auth, _session, callback) {
      if (login && auth.username === login.user && auth.password === login.password) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: (session.user as string | undefined) ?? null,
          secure: session.secure,
          raw,
          at: Date.now(),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A mail body in quoted-printable (as nodemailer writes long or non-ASCII lines) back to its text. */
export function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i] as string));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
