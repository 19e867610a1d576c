import { describe, expect, it } from 'vitest';
import { type Admission, RETRY_AFTER_SECONDS, StreamLimits } from '../../server/stream/limits.js';

const admitted = (admission: Admission) => {
  if (!admission.ok) throw new Error(`refused: ${admission.error}`);
  return admission;
};

describe('stream limits', () => {
  it('admits up to the per-address cap, then answers 429 naming how many that address holds', () => {
    const limits = new StreamLimits(100, 2);
    admitted(limits.admit('10.0.0.1'));
    admitted(limits.admit('10.0.0.1'));
    expect(limits.admit('10.0.0.1')).toEqual({
      ok: false,
      status: 429,
      error: 'this address already holds 2 streams, the maximum per client',
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
    admitted(limits.admit('10.0.0.2'));
    expect(limits.clients).toBe(2);
  });

  it('admits up to the global cap, then answers 503 whoever asks, before looking at the address', () => {
    const limits = new StreamLimits(3, 2);
    admitted(limits.admit('a'));
    admitted(limits.admit('a'));
    admitted(limits.admit('b'));
    const full = { ok: false, status: 503, error: 'the server holds its maximum of 3 streams', retryAfterSeconds: 10 };
    expect(limits.admit('c')).toEqual(full);
    expect(limits.admit('a')).toEqual(full);
  });

  it('frees the slot on release, once however often release is called', () => {
    const limits = new StreamLimits(2, 2);
    const first = admitted(limits.admit('a'));
    admitted(limits.admit('b'));
    expect(limits.admit('c').ok).toBe(false);
    first.release();
    first.release();
    first.release();
    expect(limits.clients).toBe(1);
    admitted(limits.admit('c'));
    expect(limits.admit('d').ok).toBe(false); // the double releases gave back one slot, not three
  });

  it('forgets an address once its last stream is released, and keeps counting the others', () => {
    const limits = new StreamLimits(10, 3);
    const streams = [admitted(limits.admit('a')), admitted(limits.admit('a')), admitted(limits.admit('a'))];
    expect(limits.admit('a').ok).toBe(false);
    streams[0]?.release();
    expect(limits.clients).toBe(1);
    admitted(limits.admit('a'));
    expect(limits.admit('a').ok).toBe(false);
    for (const stream of streams) stream.release();
    expect(limits.clients).toBe(1);
    expect(limits.admit('a').ok).toBe(true);
    expect(limits.admit('a').ok).toBe(true);
    expect(limits.admit('a').ok).toBe(false);
  });

  it('tells refused clients to come back in 10 s', () => {
    expect(RETRY_AFTER_SECONDS).toBe(10);
  });
});
