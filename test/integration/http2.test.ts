import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { runCli, startTestServer } from '../helpers/server.js';
import { seqOf } from '../helpers/sse-reader.js';
import { selfSignedCertificate } from '../helpers/tls.js';

interface Event {
  event: string;
  id?: string;
  data: any;
}

/** Reads SSE over an HTTP/2 stream until `enough` holds. */
function readHttp2Events(
  url: string,
  ca: Buffer,
  headers: Record<string, string>,
  enough: (events: Event[]) => boolean,
): Promise<{ events: Event[]; status: number }> {
  return new Promise((resolve, reject) => {
    const session = connect(url, { ca });
    session.on('error', reject);
    const target = new URL(url);
    const stream = session.request({ ':path': `${target.pathname}${target.search}`, accept: 'text/event-stream', ...headers });
    const events: Event[] = [];
    let status = 0;
    let buffer = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) events.push({ event, id: /^id: (.*)$/m.exec(frame)?.[1], data: JSON.parse(data) });
      }
      if (enough(events)) {
        stream.close();
        session.close();
        resolve({ events, status });
      }
    });
    setTimeout(() => reject(new Error(`timed out with ${events.length} events`)), 10_000).unref();
  });
}

describe('HTTPS with HTTP/2', () => {
  let tls: ReturnType<typeof selfSignedCertificate>;
  let server: RunningServer;

  beforeAll(async () => {
    tls = selfSignedCertificate();
    server = await startTestServer({ tlsCert: tls.certPath, tlsKey: tls.keyPath });
  });
  afterAll(() => server?.close());

  it('streams typed events over an HTTP/2 stream, and resumes with Last-Event-ID', async () => {
    expect(server.url).toMatch(/^https:/);
    const first = await readHttp2Events(
      `${server.url}api/events`,
      tls.cert,
      {},
      (events) => events.filter((e) => e.event === 'cpu').length >= 2,
    );
    expect(first.status).toBe(200);
    expect(first.events[0]?.event).toBe('hello');
    expect(first.events[1]?.event).toBe('backfill');
    expect(first.events.find((e) => e.event === 'cpu')?.data).toMatchObject({ total: expect.any(Number), cores: expect.any(Array) });
    const lastId = first.events.filter((e) => e.id).at(-1)?.id as string;
    // Events the second request has missed, to be replayed.
    for (const deadline = performance.now() + 10_000; server.monitor.hub.lastSeq < seqOf(lastId) + 3; ) {
      if (performance.now() > deadline) throw new Error('no new events');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const second = await readHttp2Events(`${server.url}api/events`, tls.cert, { 'last-event-id': lastId }, (events) => events.length >= 6);
    expect(second.events[0]?.data.mode).toBe('resume');
    const seqs = second.events.filter((e) => e.id).map((e) => seqOf(e.id));
    expect(seqs).toEqual(seqs.map((_, i) => seqOf(lastId) + 1 + i));
  });

  it('answers curl --http2 with HTTP/2, and HTTP/1.1 clients by ALPN', async () => {
    // Asynchronously: the server runs in this process, so a blocking exec would deadlock it.
    const curl = async (...args: string[]) =>
      (await promisify(execFile)('curl', ['-s', '--cacert', tls.certPath, '-o', '/dev/null', '-w', '%{http_version}', ...args])).stdout;
    expect(await curl('--http2', `${server.url}healthz`)).toBe('2');
    expect(await curl('--http1.1', `${server.url}healthz`)).toBe('1.1');
  });

  it('ends start-up with one line for an unreadable or invalid key/certificate', async () => {
    const missing = await runCli(['--tls-cert', '/nonexistent/cert.pem', '--tls-key', tls.keyPath]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('pulseboard: --tls-cert "/nonexistent/cert.pem": cannot read the file (ENOENT) (see --help)');
    const garbage = join(tmpdir(), `pulseboard-not-a-cert-${process.pid}.pem`);
    writeFileSync(garbage, 'not a certificate\n');
    const invalid = await runCli(['--port', '0', '--tls-cert', garbage, '--tls-key', tls.keyPath]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.trim().split('\n')).toHaveLength(1);
    expect(invalid.stderr).toMatch(/not a usable PEM certificate and key/);
    const alone = await runCli(['--tls-cert', tls.certPath]);
    expect(alone.stderr.trim()).toBe('pulseboard: --tls-cert and --tls-key go together (see --help)');
  });
});
