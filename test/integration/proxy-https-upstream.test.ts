import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/server.js';
import { selfSignedCertificate } from '../helpers/tls.js';

const certificate = selfSignedCertificate();
let upstream: Server;
let upstreamUrl: string;
/** TLS connections the upstream accepted: keep-alive reuse shows as fewer of them than requests. */
let handshakes = 0;

beforeAll(async () => {
  upstream = createServer({ cert: certificate.cert, key: readFileSync(certificate.keyPath) }, (request, response) => {
    response.end(`secure ${request.url}`);
  });
  upstream.on('secureConnection', () => handshakes++);
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  // An IP address: SNI must not carry it (Node warns when it is asked to), yet the certificate is checked against it.
  upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(() => {
  upstream.closeAllConnections();
  upstream.close();
});

async function proxyTo(env: NodeJS.ProcessEnv = {}): Promise<{ server: ServerProcess; proxyUrl: string }> {
  const server = await spawnServer(['--port', '0', '--proxy', upstreamUrl, '--proxy-port', '0'], env);
  const proxying = /proxying (http:\/\/\S+?)\/? /;
  const deadline = Date.now() + 15_000;
  while (!proxying.test(server.output())) {
    if (Date.now() > deadline) throw new Error(`no proxy URL in:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { server, proxyUrl: proxying.exec(server.output())?.[1] as string };
}

describe('proxy to an https upstream', () => {
  it('forwards over verified TLS when the upstream CA is trusted (NODE_EXTRA_CA_CERTS), on kept-alive connections', async () => {
    const { server, proxyUrl } = await proxyTo({ NODE_EXTRA_CA_CERTS: certificate.certPath });
    try {
      const before = handshakes;
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${proxyUrl}/item/${i}`);
        expect(response.status).toBe(200);
        expect(await response.text()).toBe(`secure /item/${i}`);
      }
      expect(handshakes - before).toBe(1);
      expect(server.output()).not.toContain('DeprecationWarning');
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('answers 502 saying the certificate is not trusted, and logs it once, when it is not', async () => {
    const { server, proxyUrl } = await proxyTo();
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${proxyUrl}/item`);
        expect(response.status).toBe(502);
        expect(await response.json()).toEqual({
          error: `upstream ${upstreamUrl} failed TLS verification: its certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); give pulseboard its CA with NODE_EXTRA_CA_CERTS=<file.pem>`,
        });
      }
      const lines = server.output().split('\n');
      expect(lines.filter((line) => line.startsWith('pulseboard: proxy: upstream'))).toEqual([
        `pulseboard: proxy: upstream ${upstreamUrl} failed TLS verification: its certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); give pulseboard its CA with NODE_EXTRA_CA_CERTS=<file.pem>`,
      ]);
      expect(server.output()).not.toContain('DeprecationWarning');
    } finally {
      await server.stop();
    }
  }, 30_000);
});
