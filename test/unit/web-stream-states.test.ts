import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HelloPayload } from '../../server/protocol.js';
import { backoffDelay, type ConnectionState, Stream, type StreamOptions } from '../../web/stream.js';
import { FakeEventSource } from '../helpers/fake-event-source.js';

const hello = (overrides: Partial<HelloPayload> = {}) => ({
  bootId: 'boot1',
  interval: 1000,
  mode: 'fresh',
  topics: ['cpu'],
  ...overrides,
});

function setUp(options: Partial<StreamOptions> = {}) {
  vi.useFakeTimers({ now: 0 });
  const sources: FakeEventSource[] = [];
  const states: ConnectionState[] = [];
  const cpu: { t: number; id: string }[] = [];
  const stream = new Stream({
    url: 'api/events',
    random: () => 0.5,
    createEventSource: (url) => {
      const source = new FakeEventSource(url);
      sources.push(source);
      return source;
    },
    onState: (state) => states.push(state),
    handlers: { cpu: (sample, id) => cpu.push({ t: sample.t, id }) },
    ...options,
  });
  return {
    stream,
    sources,
    states,
    cpu,
    current: () => sources.at(-1) as FakeEventSource,
    kind: () => states.at(-1)?.kind,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('web stream: connection states', () => {
  it('starts offline without opening anything when the browser is offline, and connects when it is back', () => {
    const { stream, sources, kind, current } = setUp({ online: false });
    stream.start();
    expect(kind()).toBe('offline');
    expect(sources).toHaveLength(0);
    stream.setOnline(true);
    expect(sources).toHaveLength(1);
    expect(current().url).toBe('api/events');
    expect(kind()).toBe('connecting');
    stream.stop();
  });

  it('ignores online changes once stopped, and stops watching and reconnecting', () => {
    const { stream, sources, states, current } = setUp();
    stream.start();
    current().emit('hello', hello());
    stream.stop();
    expect(current().closed).toBe(true);
    const seen = states.length;
    stream.setOnline(false);
    stream.setOnline(true);
    current().fail();
    vi.advanceTimersByTime(120_000);
    expect(sources).toHaveLength(1);
    expect(states).toHaveLength(seen);
  });

  it('going offline while waiting to reconnect cancels the attempt; back online connects at once, from attempt 1', () => {
    const { stream, sources, states, current, kind } = setUp();
    stream.start();
    current().emit('hello', hello());
    current().fail();
    current().fail(); // a second error of the same, closed source changes nothing
    expect(states.filter((s) => s.kind === 'reconnecting')).toHaveLength(1);
    stream.setOnline(false);
    expect(kind()).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(sources).toHaveLength(1);
    stream.setOnline(true);
    expect(sources).toHaveLength(2);
    current().fail();
    expect(states.at(-1)).toMatchObject({ kind: 'reconnecting', attempt: 1 });
    stream.stop();
  });

  it('ignores the error of a source closed when the browser went offline', () => {
    const { stream, sources, current, kind } = setUp();
    stream.start();
    const first = current();
    stream.setOnline(false);
    stream.setOnline(true);
    stream.setOnline(false);
    expect(kind()).toBe('offline');
    first.fail(); // the old source's error: ignored
    expect(kind()).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(sources).toHaveLength(2);
    stream.stop();
  });

  it('stays reconnecting (not connecting) while the next attempt opens, and goes live on its hello', () => {
    const { stream, states, current, kind } = setUp();
    stream.start();
    current().emit('hello', hello());
    current().fail();
    vi.advanceTimersByTime(1000);
    expect(kind()).toBe('reconnecting');
    expect(states.filter((s) => s.kind === 'connecting')).toHaveLength(1); // only the very first connect
    current().emit('hello', hello({ mode: 'resume' }));
    expect(kind()).toBe('live');
    stream.stop();
  });

  it('drops what an old EventSource delivers after it was replaced', () => {
    const { stream, current, cpu } = setUp();
    stream.start();
    const first = current();
    first.emit('hello', hello());
    first.emit('cpu', { t: 1 }, 'boot1-1');
    first.fail();
    vi.advanceTimersByTime(1000);
    first.emit('cpu', { t: 2 }, 'boot1-2');
    expect(cpu.map((e) => e.t)).toEqual([1]);
    current().emit('cpu', { t: 2 }, 'boot1-2');
    expect(cpu).toEqual([
      { t: 1, id: 'boot1-1' },
      { t: 2, id: 'boot1-2' },
    ]);
    stream.stop();
  });

  it('adds the resume id to a URL that has a query already, encoded', () => {
    const { stream, current } = setUp({ url: 'api/events?host=web-1' });
    stream.start();
    current().emit('hello', hello());
    current().emit('cpu', { t: 1 }, 'a b-3');
    current().fail();
    vi.advanceTimersByTime(1000);
    expect(current().url).toBe('api/events?host=web-1&lastEventId=a%20b-3');
    expect(stream.lastEventId).toBe('a b-3');
    stream.stop();
  });

  it('skips an event whose data is not JSON, and counts it as a sign of life', () => {
    const { stream, current, cpu, kind } = setUp();
    stream.start();
    current().emit('hello', hello({ interval: 100 }));
    vi.advanceTimersByTime(200);
    current().emit('cpu', '{not json', 'boot1-1', true);
    expect(cpu).toEqual([]);
    vi.advanceTimersByTime(100); // 300 ms after the hello, 100 after the last sign of life: not stale
    expect(kind()).toBe('live');
    current().emit('cpu', { t: 5 }, 'boot1-1');
    expect(cpu).toEqual([{ t: 5, id: 'boot1-1' }]);
    stream.stop();
  });

  it('turns stale only past 2.5 intervals of silence', () => {
    const { stream, current, kind, states } = setUp();
    stream.start();
    current().emit('hello', hello({ interval: 100 }));
    vi.advanceTimersByTime(250); // the watchdog looks every 250 ms: 250 ms silent is not past 250
    expect(kind()).toBe('live');
    vi.advanceTimersByTime(250);
    expect(states.at(-1)).toEqual({ kind: 'stale', silentMs: 500 });
    stream.stop();
  });

  it('expects an event at least every 50 ms, however short the interval', () => {
    const { stream, current, kind } = setUp();
    stream.start();
    current().emit('hello', hello({ interval: 40 }));
    vi.advanceTimersByTime(140);
    current().emit('cpu', { t: 1 }, 'boot1-1');
    vi.advanceTimersByTime(110); // watchdog at 250: 110 ms silent, not past 2.5 x 50
    expect(kind()).toBe('live');
    stream.stop();
  });

  it('does not call a stream stale before it is live', () => {
    const { stream, kind } = setUp();
    stream.start();
    vi.advanceTimersByTime(10_000);
    expect(kind()).toBe('connecting');
    stream.stop();
  });

  it('backs off from one second for a first or odd attempt number', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(1000);
    expect(backoffDelay(-3, () => 0.5)).toBe(1000);
    expect(backoffDelay(2, () => 0.5)).toBe(2000);
    expect(backoffDelay(6, () => 0.5)).toBe(30_000);
  });
});

describe('web stream: what it reports', () => {
  it('is connecting before it starts, and changes nothing when told about the network before that', () => {
    const { stream, states, sources } = setUp();
    expect(stream.connectionState).toEqual({ kind: 'connecting' });
    stream.setOnline(false);
    stream.setOnline(true);
    expect(states).toEqual([]);
    expect(sources).toHaveLength(0);
    stream.start();
    expect(stream.connectionState).toEqual({ kind: 'connecting' });
    stream.stop();
  });

  it('does not reconnect when told it is online while it already is', () => {
    const { stream, sources, states, current } = setUp();
    stream.start();
    current().emit('hello', hello());
    stream.setOnline(true);
    expect(sources).toHaveLength(1);
    expect(states.map((s) => s.kind)).toEqual(['connecting', 'live']);
    stream.stop();
  });

  it('reports live once, not on every event', () => {
    const { stream, states, current } = setUp();
    stream.start();
    current().emit('hello', hello());
    for (let i = 1; i <= 3; i++) current().emit('cpu', { t: i }, `boot1-${i}`);
    expect(states.map((s) => s.kind)).toEqual(['connecting', 'live']);
    stream.stop();
  });

  it('keeps counting the silence while stale', () => {
    const { stream, states, current } = setUp();
    stream.start();
    current().emit('hello', hello({ interval: 100 }));
    vi.advanceTimersByTime(1000);
    expect(states.filter((s) => s.kind === 'stale').map((s) => (s as { silentMs: number }).silentMs)).toEqual([500, 750, 1000]);
    stream.stop();
  });

  it("opens the browser's EventSource when it is given none", () => {
    const created: string[] = [];
    const original = (globalThis as { EventSource?: unknown }).EventSource;
    (globalThis as { EventSource?: unknown }).EventSource = class extends FakeEventSource {
      constructor(url: string) {
        super(url);
        created.push(url);
      }
    };
    try {
      const stream = new Stream({ url: 'api/events', handlers: {}, onState: () => {} });
      stream.start();
      expect(created).toEqual(['api/events']);
      stream.stop();
    } finally {
      (globalThis as { EventSource?: unknown }).EventSource = original;
    }
  });
});

describe("web stream on the browser's own timers", () => {
  it('stops its watchdog and its pending reconnect on stop()', () => {
    vi.useFakeTimers({ now: 0 }); // fakes the globals the default clock calls
    const sources: FakeEventSource[] = [];
    const states: ConnectionState[] = [];
    const stream = new Stream({
      url: 'api/events',
      handlers: {},
      onState: (state) => states.push(state),
      random: () => 0.5,
      createEventSource: (url) => {
        const source = new FakeEventSource(url);
        sources.push(source);
        return source;
      },
    });
    stream.start();
    sources[0]?.emit('hello', hello());
    sources[0]?.fail(); // a reconnect is now pending, 1 s away
    stream.stop();
    const seen = states.length;
    vi.advanceTimersByTime(60_000);
    expect(sources).toHaveLength(1);
    expect(states).toHaveLength(seen);

    const watched = new Stream({
      url: 'api/events',
      handlers: {},
      onState: (state) => states.push(state),
      createEventSource: (url) => new FakeEventSource(url),
    });
    watched.start();
    watched.stop();
    const before = states.length;
    vi.advanceTimersByTime(60_000);
    expect(states).toHaveLength(before);
  });
});
