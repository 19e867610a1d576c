// The small Hono app of the middleware benchmark: `bare`, `measured` (with pulseboard's middleware),
// `wrapped` (measured from outside the app by `measuredFetch`) or `empty` (a middleware that only calls
// next(): the floor any Hono middleware pays).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { measuredFetch } from '../../../server/requests/measured-fetch.js';
import { requestMiddleware } from '../../../server/requests/middleware.js';
import { RequestStats } from '../../../server/requests/stats.js';

const mode = process.argv[2] ?? 'bare';
const app = new Hono();
const stats = new RequestStats({ source: 'embedded' });
if (mode === 'measured') app.use('*', requestMiddleware(stats));
// Close a tick every second, as the sampler would.
if (mode === 'measured' || mode === 'wrapped') setInterval(() => stats.sample(Date.now()), 1000);
if (mode === 'empty') app.use('*', (_c, next) => next());
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), name: 'Ada' }));
app.get('/', (c) => c.text('ok'));
serve({ fetch: mode === 'wrapped' ? measuredFetch(app, stats) : app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}/\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
