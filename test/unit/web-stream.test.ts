import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HelloPayload } from '../../server/protocol.js';
import { BACKOFF_CAP_MS, backoffDelay, type ConnectionState, Stream } from '../../web/stream.js';
import { FakeEventSource } from '../helpers/fake-event-source.js';

const hello = (overrides: Partial<HelloPayload> = {}) => ({
  bootId: 'boot1',
  interval: 1000,
  mode: 'fresh',
  topics: ['cpu'],
  ...overrides,
});

describe('web stream', () => {
  let sources: FakeEventSource[];
  let states: ConnectionState[];
  let cpu: { t: number; id: string }[];
  let stream: Stream;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    sources = [];
    states = [];
    cpu = [];
    stream = new Stream({
      url: 'api/events',
      random: () => 0.5,
      createEventSource: (url) => {
        const source = new FakeEventSource(url);
        sources.push(source);
        return source;
      },
      onState: (state) => states.push(state),
      handlers: { cpu: (sample, id) => cpu.push({ t: sample.t, id }) },
    });
    stream.start();
  });
  afterEach(() => {
    stream.stop();
    vi.useRealTimers();
  });

  const current = () => sources.at(-1) as FakeEventSource;
  const kind = () => states.at(-1)?.kind;

  it('goes from connecting to live on hello', () => {
    expect(kind()).toBe('connecting');
    expect(current().url).toBe('api/events');
    current().emit('hello', hello());
    expect(kind()).toBe('live');
  });

  it('on error closes the EventSource and reconnects with growing, capped delays, carrying the last id', async () => {
    current().emit('hello', hello());
    current().emit('cpu', { t: 1 }, 'boot1-7');
    for (let attempt = 1; attempt <= 8; attempt++) {
      const failing = current();
      failing.fail();
      expect(failing.closed).toBe(true);
      const state = states.at(-1) as Extract<ConnectionState, { kind: 'reconnecting' }>;
      expect(state).toMatchObject({ kind: 'reconnecting', attempt });
      const delay = state.nextAt - Date.now();
      expect(delay).toBe(Math.min(BACKOFF_CAP_MS, 1000 * 2 ** (attempt - 1)));
      await vi.advanceTimersByTimeAsync(delay);
      expect(current()).not.toBe(failing);
      expect(current().url).toBe('api/events?lastEventId=boot1-7');
    }
    current().emit('hello', hello({ mode: 'resume' }));
    expect(kind()).toBe('live');
    current().fail();
    expect(states.at(-1)).toMatchObject({ kind: 'reconnecting', attempt: 1 });
  });

  it('jitters the delay by up to 20 % either way', () => {
    expect(backoffDelay(1, () => 0)).toBe(800);
    expect(backoffDelay(1, () => 1)).toBe(1200);
    expect(backoffDelay(20, () => 1)).toBe(36_000);
  });

  it('drops events it has already applied, so a resume never doubles a point', () => {
    current().emit('hello', hello());
    current().emit('cpu', { t: 1 }, 'boot1-1');
    current().emit('cpu', { t: 2 }, 'boot1-2');
    current().fail();
    vi.advanceTimersByTime(1000);
    current().emit('hello', hello({ mode: 'resume' }));
    current().emit('cpu', { t: 2 }, 'boot1-2');
    current().emit('cpu', { t: 3 }, 'boot1-3');
    expect(cpu.map((e) => e.t)).toEqual([1, 2, 3]);
  });

  it('accepts lower ids after a new boot', () => {
    current().emit('hello', hello());
    current().emit('cpu', { t: 1 }, 'boot1-50');
    current().emit('hello', hello({ bootId: 'boot2', mode: 'reset' }));
    current().emit('cpu', { t: 2 }, 'boot2-3');
    expect(cpu.map((e) => e.id)).toEqual(['boot1-50', 'boot2-3']);
  });

  it('turns stale after 2.5 intervals without events, and live again on the next one', () => {
    current().emit('hello', hello());
    vi.advanceTimersByTime(2400);
    expect(kind()).toBe('live');
    // The watchdog looks every 250 ms.
    vi.advanceTimersByTime(400);
    expect(kind()).toBe('stale');
    current().emit('cpu', { t: 1 }, 'boot1-1');
    expect(kind()).toBe('live');
  });

  it('shows offline while the browser is offline and reconnects at once when it is back', () => {
    current().emit('hello', hello());
    const before = current();
    stream.setOnline(false);
    expect(kind()).toBe('offline');
    expect(before.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(sources).toHaveLength(1);
    stream.setOnline(true);
    expect(sources).toHaveLength(2);
    expect(kind()).toBe('connecting');
  });
});
