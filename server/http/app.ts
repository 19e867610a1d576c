import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import { compress } from 'hono/compress';
import { processMemorySettle } from '../lib/memory-settle.js';
import { findWebDir } from '../lib/paths.js';
import type { HistoryResponse, SnapshotResponse } from '../protocol.js';
import { requestMiddleware } from '../requests/middleware.js';
import type { RequestStats } from '../requests/stats.js';
import type { Board, Boards, BoardsSource } from '../stream/board.js';
import { NodeResponseSink, SSE_HEADERS, WebStreamSink } from '../stream/sink.js';
import { alertRoutes } from './alert-routes.js';
import { tokenAuth } from './auth.js';
import { boundedBodies } from './bounds.js';
import { clientAddress } from './client.js';
import { cors, corsHeaders } from './cors.js';
import { acceptsGzip, HISTORY_LIMITS, HISTORY_RETRY_AFTER_SECONDS, HistoryAnswers } from './history.js';
import { historyBody, historyRequestKey, parseHistoryRequest } from './history-query.js';
import { PrometheusExport } from './metrics.js';
import { parseTopics } from './query.js';
import { loadStaticFiles, pageWithRole, type StaticFile } from './static.js';

export interface AppOptions {
  /** Folder of the built page; defaults to dist/web. */
  webDir?: string | null;
  /** Measure this app's own routes into these statistics (standalone mode). */
  measure?: RequestStats;
  /** The statistics whose requests `/metrics` exports as a histogram; default: `measure` (with --proxy: the proxy's). */
  requestMetrics?: RequestStats;
  /** Require this token on every route but /healthz. */
  token?: string | null;
  /** Origins whose pages may call the API (`--cors-origin`); none by default. */
  corsOrigins?: readonly string[];
  /** Behind a reverse proxy (`--trust-proxy`): believe its X-Forwarded-For and X-Forwarded-Proto. */
  trustProxy?: boolean;
}

type Env = { Bindings: Partial<HttpBindings> };

const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The HTTP face of a monitor (or of a fleet hub's boards): the stream, the JSON routes, `/metrics` and the
 * page. Mountable under any base path. Takes the monitor or its promise, so an embedding app can mount the
 * routes before sampling is ready.
 */
export function createApp(source: BoardsSource | Promise<BoardsSource> | Boards, options: AppOptions = {}): Hono<Env> {
  const ready: Promise<Boards> =
    source instanceof Promise
      ? source.then((monitor) => monitor.asBoards())
      : 'asBoards' in source
        ? Promise.resolve(source.asBoards())
        : Promise.resolve(source);
  const metrics = ready.then((boards) => new PrometheusExport(boards, options.requestMetrics ?? options.measure ?? null));
  const app = new Hono<Env>();
  if (options.measure) app.use('*', requestMiddleware(options.measure));
  app.use('*', boundedBodies());
  const corsOrigins = options.corsOrigins ?? [];
  // Before the token check: a browser's preflight never carries credentials.
  if (corsOrigins.length > 0) app.use('*', cors(corsOrigins));
  const trustProxy = options.trustProxy ?? false;
  if (options.token) app.use('*', tokenAuth(options.token, trustProxy));
  const webDir = options.webDir === undefined ? findWebDir() : options.webDir;
  const files = webDir ? loadStaticFiles(webDir) : new Map<string, StaticFile>();
  /** The page with the server's role written in, made on its first request (the role is known once ready). */
  let page: StaticFile | undefined;
  const pageOf = async (file: StaticFile): Promise<StaticFile> => {
    page ??= pageWithRole(file, (await ready).fleet ? 'hub' : 'host');
    return page;
  };

  app.onError((error, c) => {
    console.error(`pulseboard: ${c.req.method} ${c.req.path}: ${error instanceof Error ? error.message : String(error)}`);
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));

  /** The board `?host=` asks for, or the JSON error response. */
  const boardOf = async (c: Context<Env>): Promise<Board | Response> => {
    const lookup = (await ready).board(c.req.query('host'));
    return lookup.ok ? lookup.board : c.json({ error: lookup.error }, lookup.status);
  };

  app.get('/api/events', async (c) => {
    const boards = await ready;
    const board = await boardOf(c);
    if (board instanceof Response) return board;
    const topics = parseTopics(c.req.query('topics'), board.topics);
    if (!topics.ok) return c.json({ error: topics.error }, 400);
    const headers = corsOrigins.length > 0 ? { ...SSE_HEADERS, ...corsHeaders(corsOrigins, c.req.header('origin')) } : SSE_HEADERS;
    // HEAD gets a stream's headers and no stream, which would hold a slot and a subscriber for nothing.
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    const request = {
      topics: topics.value,
      lastEventId: c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? null,
    };
    const client = clientAddress(c.env?.incoming?.socket?.remoteAddress, c.req.header('x-forwarded-for'), trustProxy);
    const admission = boards.streamLimits.admit(client);
    if (!admission.ok) {
      return c.json({ error: admission.error }, admission.status, { 'Retry-After': String(admission.retryAfterSeconds) });
    }
    const maxBuffered = boards.maxClientBufferBytes;
    // The one route that writes to the Node socket itself: encoded bytes, shared by all clients.
    const outgoing = c.env?.outgoing;
    const sink = outgoing ? new NodeResponseSink(outgoing, maxBuffered, headers) : new WebStreamSink(maxBuffered);
    sink.onClose(admission.release);
    board.streams.start(sink, request);
    if (sink instanceof NodeResponseSink) return RESPONSE_ALREADY_SENT;
    return new Response(sink.stream, { headers });
  });

  const json = compress();

  app.get('/api/snapshot', json, async (c) => {
    const board = await boardOf(c);
    if (board instanceof Response) return board;
    const samples: Record<string, unknown> = {};
    for (const topic of board.topics) {
      const latest = board.hub.latest(topic);
      if (latest) samples[topic] = latest.data;
    }
    const body: SnapshotResponse = {
      bootId: board.hub.bootId,
      t: Date.now(),
      samples: samples as SnapshotResponse['samples'],
      collectors: board.health(),
    };
    return c.json(body, 200, { 'Cache-Control': 'no-store' });
  });

  const history = new HistoryAnswers(HISTORY_LIMITS, (release) => processMemorySettle().afterBulkWork(release));
  app.get('/api/history', async (c) => {
    const board = await boardOf(c);
    if (board instanceof Response) return board;
    const topics = parseTopics(c.req.query('topics'), board.topics);
    if (!topics.ok) return c.json({ error: topics.error }, 400);
    const now = Date.now();
    const request = parseHistoryRequest(c.req.query(), now);
    if (!request.ok) return c.json({ error: request.error }, 400);
    const gzipped = acceptsGzip(c.req.header('accept-encoding'));
    const { hub } = board;
    const key = [board.name, hub.bootId, hub.lastSeq, topics.value.join(','), historyRequestKey(request.value), gzipped].join('|');
    const build = (): HistoryResponse => ({ ...historyBody(board, topics.value, request.value, now), alerts: board.activeAlerts() });
    const answer = history.answer(key, build, gzipped);
    if (!answer) {
      return c.json({ error: `too many history requests at once; retry in ${HISTORY_RETRY_AFTER_SECONDS} s` }, 503, {
        'Retry-After': String(HISTORY_RETRY_AFTER_SECONDS),
      });
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Vary: 'Accept-Encoding' };
    if (gzipped) headers['Content-Encoding'] = 'gzip';
    return c.body(await answer, 200, headers);
  });

  alertRoutes(app, boardOf);

  app.get('/healthz', async (c) => c.json((await ready).status(), 200, { 'Cache-Control': 'no-store' }));

  app.get('/api/fleet', json, async (c) => {
    const boards = await ready;
    if (!boards.fleet) return c.json({ error: 'not a fleet hub: start with --redis to show many hosts' }, 404);
    return c.json(boards.fleet(), 200, { 'Cache-Control': 'no-store' });
  });

  app.get('/metrics', async (c) => {
    const exported = await metrics;
    return c.body(await exported.text(), 200, { 'Content-Type': exported.contentType, 'Cache-Control': 'no-store' });
  });

  app.get('*', async (c) => {
    const path = c.req.path.endsWith('/') ? '/index.html' : `/${c.req.path.split('/').pop() ?? ''}`;
    const assetPath = c.req.path.includes('/assets/') ? `/assets${path}` : path;
    const stored = files.get(assetPath);
    if (!stored) {
      const wantsPage = path === '/index.html';
      if (files.size === 0 && wantsPage) return c.text('pulseboard: the page is not built; run `npm run build`.\n', 503);
      return c.json({ error: 'not found' }, 404);
    }
    const file = assetPath === '/index.html' ? await pageOf(stored) : stored;
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304);
    const headers: Record<string, string> = {
      'Content-Type': file.contentType,
      ETag: file.etag,
      // Behind a token, a shared cache must not hand the files to whoever asks next.
      'Cache-Control': file.immutable ? `${options.token ? 'private' : 'public'}, max-age=31536000, immutable` : 'no-cache',
    };
    if (file.contentType.startsWith('text/html')) Object.assign(headers, PAGE_HEADERS);
    else headers['X-Content-Type-Options'] = 'nosniff';
    return c.body(new Uint8Array(file.body), 200, headers);
  });

  return app;
}
