// The peer's app: Express 4, `bare` or `monitored` (express-status-monitor 1.3.4 sampling every 1 s).
// The monitored app hands the monitor its own socket.io server, so the bench can stamp when each update is
// published (`publishedAt`, ms since epoch): the payload's own timestamp is of the sample before it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import statusMonitor from 'express-status-monitor';
import createIo from 'socket.io';

const mode = process.argv[2] ?? 'bare';
const app = express();
const server = createServer(app);
if (mode === 'monitored') {
  const io = createIo(server);
  const emit = io.emit.bind(io);
  io.emit = (event: string, ...args: unknown[]) =>
    event === 'esm_stats' ? emit(event, { ...(args[0] as object), publishedAt: Date.now() }) : emit(event, ...args);
  app.use(statusMonitor({ spans: [{ interval: 1, retention: 60 }], websocket: io }));
}
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, name: 'Ada' });
});
app.get('/', (_req, res) => {
  res.send('ok');
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
