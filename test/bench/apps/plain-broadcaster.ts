// The fan-out bench's baseline: a plain node:http SSE broadcaster of the same bytes. It holds one stream from
// a pulseboard server (its upstream, argv[2]) and writes each chunk it receives, as is, to every client: one
// write per chunk per client, no framing, no per-client bookkeeping, no bound on what a client leaves unread.
import { createServer, request, type ServerResponse } from 'node:http';

const upstream = process.argv[2] as string;
const clients = new Set<ServerResponse>();

request(`${upstream}/api/events`, { headers: { Accept: 'text/event-stream' } }, (res) => {
  res.on('data', (chunk: Buffer) => {
    for (const client of clients) client.write(chunk);
  });
}).end();

const server = createServer((req, res) => {
  if (!req.url?.startsWith('/api/events')) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  clients.add(res);
  res.on('close', () => clients.delete(res));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}/\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
