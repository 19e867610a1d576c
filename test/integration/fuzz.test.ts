// Property-based fuzzing of every parser of outside input: durations, query strings, Last-Event-ID, flags
// and alert-rules JSON. In-process for the parsers (their time against input length), and through a real
// server on port 0 for what a client can send. The number of inputs run is printed at the end.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertRulesError, loadAlertSettings, parseAlertSettings } from '../../server/alerts/rules.js';
import { ConfigError, parseCli } from '../../server/config.js';
import { clientAddress } from '../../server/http/client.js';
import { acceptsGzip } from '../../server/http/history.js';
import { parseSince, parseTopics } from '../../server/http/query.js';
import { parseDuration } from '../../server/lib/duration.js';
import { GAUGES, TOPICS } from '../../server/protocol.js';
import type { RunningServer } from '../../server/serve.js';
import { parseEventId } from '../../server/stream/sse.js';
import { growthOver8x, LINEAR_GROWTH_BOUND } from '../helpers/linear.js';
import { startTestServer } from '../helpers/server.js';

const inputs = new Map<string, number>();
const counted = (what: string) => inputs.set(what, (inputs.get(what) ?? 0) + 1);
afterAll(() => {
  const total = [...inputs.values()].reduce((sum, n) => sum + n, 0);
  console.log(`fuzz: ${total} inputs run (${[...inputs].map(([what, n]) => `${what} ${n}`).join(', ')})`);
});

/** Every byte of the text's UTF-8 as %XX: any text, lone surrogates too, fits a URL this way. */
const percentEncoded = (text: string) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

/** A one-line message: what a user sees at start-up or in a log. */
const isOneLine = (text: string) => !/[\r\n]/.test(text);

/** Text near the valid forms, and anything at all. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  // What a terminal or a log would act on.
  fc.constantFrom('\r', '\n', 'a\r\nb', '\u001b[2J', '\u0000', '\u007f', '\u2028'),
);
const durationLike = fc.oneof(
  anyText,
  fc
    .tuple(
      fc.constantFrom('', ' ', '\t', '  '),
      fc.stringMatching(/^\d{0,20}$/),
      fc.constantFrom('', '.', '.5', '.25', '..', 'e3', '-'),
      fc.constantFrom('', ' ', '\t', '+'),
      fc.constantFrom('', 'ms', 's', 'm', 'h', 'd', 'w', 'mm', 'S', ' h'),
      fc.constantFrom('', ' ', 'x', '\n'),
    )
    .map((parts) => parts.join('')),
);

/** Inputs of one repeated unit between a head and a tail: the shape that makes a backtracking parser quadratic. */
const repeatedShape = fc.record({
  head: fc.oneof(fc.constantFrom('', '1', '1.', ' ', 'a-', '0'), fc.string({ maxLength: 4 })),
  unit: fc.oneof(
    { arbitrary: fc.constantFrom(' ', '\t', '+', '1', '0.', '.', 'm', ',', ', ', '-', 'a', '%20', ';q=1'), weight: 3 },
    { arbitrary: fc.string({ minLength: 1, maxLength: 3 }), weight: 1 },
  ),
  tail: fc.oneof(fc.constantFrom('', 'x', '!', ' x', 'ms', '-1'), fc.string({ maxLength: 4 })),
});

describe('parsers of outside input (in-process)', () => {
  it('durations: null or a whole number of ms, never a throw', () => {
    fc.assert(
      fc.property(durationLike, (text) => {
        counted('durations');
        const ms = parseDuration(text);
        return ms === null || (Number.isSafeInteger(ms) && ms >= 0);
      }),
      { numRuns: 3000 },
    );
  });

  // Each parser against inputs 8 times as long: linear work grows about 8 times, quadratic about 64.
  const parsers: [string, (text: string) => unknown][] = [
    ['durations', parseDuration],
    ['since', (text) => parseSince(text, 1_700_000_000_000)],
    ['topics', (text) => parseTopics(text, TOPICS)],
    ['Last-Event-ID', parseEventId],
    ['X-Forwarded-For', (text) => clientAddress('10.0.0.1', text, true)],
    ['Accept-Encoding', acceptsGzip],
    [
      'flags',
      (text) => {
        try {
          return parseCli(['--interval', text, '--cors-origin', text], {});
        } catch (error) {
          return error;
        }
      },
    ],
    [
      'alert-rules JSON',
      (text) => {
        try {
          return parseAlertSettings({ rules: [{ name: 'r', metric: 'cpu', above: 1, for: text }], thresholds: {} }, 'rules.json');
        } catch (error) {
          return error;
        }
      },
    ],
  ];
  it.each(parsers)('%s: time linear in the input length', (name, parse) => {
    fc.assert(
      fc.property(repeatedShape, ({ head, unit, tail }) => {
        counted(`${name} (length)`);
        const growth = growthOver8x(parse, (n) => `${head}${unit.repeat(n)}${tail}`, 1000, 3);
        expect(growth, `${JSON.stringify(head)} + ${JSON.stringify(unit)} × n + ${JSON.stringify(tail)}`).toBeLessThan(LINEAR_GROWTH_BOUND);
      }),
      { numRuns: 100 },
    );
  });

  const FLAG_VALUES: Record<string, fc.Arbitrary<string>> = {
    port: fc.oneof(fc.stringMatching(/^-?\d{0,6}$/), anyText),
    host: fc.oneof(fc.constantFrom('0.0.0.0', '::1', 'localhost', '[::1]', 'a b'), anyText),
    interval: durationLike,
    history: durationLike,
    backfill: durationLike,
    heartbeat: durationLike,
    retry: durationLike,
    'max-items': fc.oneof(fc.stringMatching(/^\d{0,12}$/), anyText),
    'exclude-interfaces': fc.oneof(fc.constantFrom('(', '^lo$', '[', '\\', '(?<x>'), anyText),
    proxy: fc.oneof(fc.webUrl(), anyText),
    'alert-webhook': fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.constantFrom('http://u:p%zz@h/'), anyText),
    token: anyText,
    'cors-origin': fc.oneof(
      fc.webUrl(),
      fc.array(fc.webUrl()).map((urls) => urls.join(',')),
      anyText,
    ),
    redis: fc.oneof(fc.constantFrom('redis://127.0.0.1:6379', 'rediss://h', 'redis://'), anyText),
    'max-streams': anyText,
    'alert-rules': fc.constantFrom('/nonexistent/rules.json', '.', ''),
    'trust-proxy': fc.constant(''),
  };
  const flagToken = fc.oneof(
    fc
      .constantFrom(...Object.entries(FLAG_VALUES))
      .chain(([flag, values]) => values.chain((value) => fc.constantFrom([`--${flag}`, value], [`--${flag}=${value}`], [`--${flag}`]))),
    anyText.map((text) => [text]),
    fc.constantFrom(['agent'], ['--help'], ['-v'], ['--'], ['-x'], ['--bogus']),
  );
  const ENV_NAMES = [
    'PORT',
    'HOST',
    'PULSEBOARD_INTERVAL',
    'PULSEBOARD_TOKEN',
    'PULSEBOARD_TRUST_PROXY',
    'PULSEBOARD_PORTABLE',
    'PULSEBOARD_REDIS',
  ];

  it('flags and environment: a command, or a ConfigError of one line; never another error', () => {
    fc.assert(
      fc.property(fc.array(flagToken, { maxLength: 6 }), fc.dictionary(fc.constantFrom(...ENV_NAMES), anyText), (tokens, env) => {
        counted('flags');
        try {
          parseCli(tokens.flat(), env);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect(isOneLine((error as Error).message), (error as Error).message).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  const severity = fc.oneof(fc.constantFrom('warning', 'critical', undefined), fc.jsonValue());
  const ruleLike = fc
    .tuple(
      fc.record(
        {
          name: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/), fc.jsonValue()),
          metric: fc.oneof(fc.constantFrom(...GAUGES, 'gpu'), fc.jsonValue()),
          above: fc.oneof(fc.double(), fc.jsonValue()),
          for: fc.oneof(durationLike, fc.jsonValue()),
          severity,
        },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue(), { maxKeys: 2 }),
    )
    .map(([rule, extra]) => ({ ...extra, ...rule }));
  const settingsLike = fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        rules: fc.oneof(fc.array(ruleLike, { maxLength: 4 }), fc.jsonValue()),
        thresholds: fc.oneof(
          fc.dictionary(
            fc.oneof(fc.constantFrom(...GAUGES), fc.string()),
            fc.oneof(fc.record({ warning: fc.double(), critical: fc.double() }, { requiredKeys: [] }), fc.jsonValue()),
          ),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()),
  );

  it('alert-rules JSON: settings, or an AlertRulesError of one line; never another error', () => {
    fc.assert(
      fc.property(settingsLike, (input) => {
        counted('alert-rules JSON');
        try {
          parseAlertSettings(input, 'rules.json');
        } catch (error) {
          expect(error).toBeInstanceOf(AlertRulesError);
          expect(isOneLine((error as Error).message), (error as Error).message).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('alert-rules files: any text is settings or one clear line at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulseboard-fuzz-'));
    const file = join(dir, 'rules.json');
    const textLike = fc.oneof(
      fc.string({ unit: 'binary' }),
      settingsLike.map((value) => JSON.stringify(value) ?? ''),
      settingsLike.chain((value) => fc.nat({ max: 200 }).map((cut) => (JSON.stringify(value) ?? '').slice(0, cut))),
    );
    fc.assert(
      fc.property(textLike, (text) => {
        counted('alert-rules files');
        writeFileSync(file, text);
        try {
          parseCli(['--alert-rules', file], {});
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect(isOneLine((error as Error).message), (error as Error).message).toBe(true);
          expect(() => loadAlertSettings(file)).toThrow(AlertRulesError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** One HTTP/1.0 exchange on a raw socket (any bytes in the request; no chunked encoding in the answer). */
function exchange(
  port: number,
  request: Buffer,
  enough: (body: string) => boolean = () => false,
): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const end = raw.indexOf('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0),
        head: raw.slice(0, end),
        body: end === -1 ? '' : raw.slice(end + 4),
      });
    };
    const timer = setTimeout(
      () => reject(new Error(`no complete answer in 10 s to ${JSON.stringify(request.toString().slice(0, 200))}: ${raw.slice(0, 300)}`)),
      10_000,
    );
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
      const end = raw.indexOf('\r\n\r\n');
      if (end !== -1 && enough(raw.slice(end + 4))) finish();
    });
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? finish() : reject(error)));
    socket.write(request);
  });
}

const EVENT_NAMES = new Set<string>([...TOPICS, 'hello', 'backfill', 'health', 'alert']);
interface Frame {
  event?: string;
  id?: string;
  data?: unknown;
  retry?: number;
}

/**
 * The complete frames of an SSE body, checked field by field: only retry, id, event, data lines and
 * comments; ids `<boot>-<seq>`; known event names; data that is JSON. Throws on anything else.
 */
function framesOf(body: string): Frame[] {
  const complete = body.slice(0, body.lastIndexOf('\n\n') + 2);
  const frames: Frame[] = [];
  for (const block of complete.split('\n\n').slice(0, -1)) {
    const frame: Frame = {};
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const match = /^(retry|id|event|data): (.*)$/.exec(line);
      if (!match) throw new Error(`not an SSE field: ${JSON.stringify(line.slice(0, 100))}`);
      const [, field, value = ''] = match;
      if (field === 'retry') {
        if (!/^\d+$/.test(value)) throw new Error(`retry ${JSON.stringify(value)}`);
        frame.retry = Number(value);
      } else if (field === 'id') {
        if (!/^[a-z0-9]{4,32}-\d+$/.test(value)) throw new Error(`id ${JSON.stringify(value)}`);
        frame.id = value;
      } else if (field === 'event') {
        if (!EVENT_NAMES.has(value)) throw new Error(`event ${JSON.stringify(value)}`);
        frame.event = value;
      } else data.push(value);
    }
    if (data.length > 0) frame.data = JSON.parse(data.join('\n'));
    if (Object.keys(frame).length > 0) frames.push(frame);
  }
  return frames;
}

/** The handshake is all here: the hello, then a backfill (fresh, reset) or the replayed events (resume). */
function handshakeDone(body: string): boolean {
  if (!body.includes('\nevent: hello\n')) return false;
  const frames = framesOf(body);
  const hello = frames.find((frame) => frame.event === 'hello');
  if (!hello) return false;
  return (hello.data as { mode: string }).mode === 'resume' || frames.some((frame) => frame.event === 'backfill');
}

describe('a real server under fuzzed requests', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ maxStreamsPerClient: 1_000_000, maxStreams: 1_000_000 });
    while (server.monitor.hub.lastSeq < 60) await new Promise((resolve) => setTimeout(resolve, 50));
  });
  afterAll(() => server?.close());

  const queryPart = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncoded),
    fc.constantFrom('', '%', '%zz', '%%', '%C3', '+', '++++', '=', '[]', ';', '%00', '%0d%0a', 'cpu', 'cpu,memory', ',,', '15m', '1'),
    durationLike.map(percentEncoded),
    fc.nat({ max: 64 }).map((n) => `1${'+'.repeat(n * 250)}x`),
  );
  const query = fc
    .array(
      fc.tuple(fc.oneof(fc.constantFrom('topics', 'since', 'host', 'lastEventId', 'token', 'topics[]'), queryPart), fc.option(queryPart)),
      { maxLength: 5 },
    )
    .map((pairs) => pairs.map(([key, value]) => (value === null ? key : `${key}=${value}`)).join('&'));
  const route = fc.constantFrom('/api/history', '/api/snapshot', '/api/events', '/api/fleet', '/healthz', '/metrics', '/', '/index.html');

  it('query strings: every route answers 2xx or 4xx, JSON errors without a stack trace, intact streams', async () => {
    await fc.assert(
      fc.asyncProperty(route, query, async (path, search) => {
        counted('query strings');
        const request = Buffer.from(
          `GET ${path}?${search} HTTP/1.0\r\nHost: x\r\nAccept: ${path === '/api/events' ? 'text/event-stream' : '*/*'}\r\n\r\n`,
        );
        const answer = await exchange(server.port, request, path === '/api/events' ? handshakeDone : undefined);
        expect(answer.status, `${path}?${search}`).toBeGreaterThanOrEqual(200);
        expect(answer.status, `${path}?${search}`).toBeLessThan(500);
        expect(answer.body).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
        if (answer.status >= 400) {
          // Ours are JSON naming the problem; Node's own (a request line or headers it cannot parse, 400 / 431) are empty.
          if (answer.body !== '') expect(typeof JSON.parse(answer.body).error).toBe('string');
        } else if (path === '/api/events') expect(framesOf(answer.body)[1]?.event).toBe('hello');
      }),
      { numRuns: 1500 },
    );
  });

  /** Ids of this boot in and out of history, other boots, and text of every kind. */
  const lastEventId = (): fc.Arbitrary<string> => {
    const { bootId, firstSeq, lastSeq } = server.monitor.hub;
    return fc.oneof(
      fc.integer({ min: firstSeq - 5, max: lastSeq + 5 }).map((seq) => `${bootId}-${seq}`),
      fc
        .tuple(
          fc.oneof(fc.constant(bootId), fc.stringMatching(/^[a-z0-9]{0,40}$/), anyText),
          fc.constantFrom('-', '--', '_', ' - ', '', '-+', '-0x'),
          fc.oneof(fc.nat().map(String), fc.bigInt().map(String), fc.double().map(String), anyText),
          fc.constantFrom('', ' ', '\t', 'x', '-1'),
        )
        .map((parts) => parts.join('')),
      anyText,
      fc.string({ unit: 'binary', minLength: 60, maxLength: 300 }),
    );
  };

  it('Last-Event-ID, as a header of any bytes: the stream opens fresh, reset or resumed, framed intact; or Node refuses the header (400)', async () => {
    await fc.assert(
      fc.asyncProperty(lastEventId(), async (id) => {
        counted('Last-Event-ID header');
        const headerValue = id.replace(/[\r\n]/g, '');
        const request = Buffer.concat([
          Buffer.from('GET /api/events?topics=cpu HTTP/1.0\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: '),
          Buffer.from(headerValue),
          Buffer.from('\r\n\r\n'),
        ]);
        const answer = await exchange(server.port, request, handshakeDone);
        if (answer.status === 400) return; // bytes no HTTP header may hold (NUL, controls): Node's parser refuses them
        expect(answer.status).toBe(200);
        checkHandshake(answer.body, headerValue.trim());
      }),
      { numRuns: 3000 },
    );
  });

  it('Last-Event-ID, as ?lastEventId= of any text (CR, LF, NUL included): never an error, framed intact', async () => {
    await fc.assert(
      fc.asyncProperty(lastEventId(), async (id) => {
        counted('lastEventId query');
        const request = Buffer.from(
          `GET /api/events?topics=cpu&lastEventId=${percentEncoded(id)} HTTP/1.0\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`,
        );
        const answer = await exchange(server.port, request, handshakeDone);
        expect(answer.status).toBe(200);
        checkHandshake(answer.body, id.trim());
      }),
      { numRuns: 2000 },
    );
  });

  /** retry, hello, then a backfill or exactly the events after the id, in order. */
  function checkHandshake(body: string, id: string): void {
    const frames = framesOf(body);
    expect(frames[0]?.retry).toBeGreaterThan(0);
    expect(frames[1]?.event).toBe('hello');
    const hello = frames[1]?.data as { mode: string; bootId: string };
    expect(['fresh', 'reset', 'resume']).toContain(hello.mode);
    if (hello.mode !== 'resume') {
      expect(frames[2]?.event).toBe('backfill');
      return;
    }
    const seq = Number(id.slice(id.lastIndexOf('-') + 1));
    const replayed = frames.slice(2).map((frame) => Number(frame.id?.split('-')[1]));
    for (const [i, replayedSeq] of replayed.entries()) expect(replayedSeq).toBeGreaterThan(i === 0 ? seq : (replayed[i - 1] as number));
  }
});
