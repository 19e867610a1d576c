import { describe, expect, it } from 'vitest';
import type { AlertPayload, CpuSample } from '../../server/protocol.js';
import { Hub, isTopicEvent, newBootId } from '../../server/stream/hub.js';
import { isBootId } from '../../server/stream/sse.js';

const cpu = (t: number): CpuSample => ({ t, total: 1, user: 1, system: 0, iowait: 0, cores: [1], load: [0, 0, 0] });
const alert = (t: number): AlertPayload => ({
  t,
  rule: 'r',
  metric: 'cpu',
  state: 'firing',
  severity: 'critical',
  value: 1,
  threshold: 0,
  since: t,
  message: 'm',
});
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('hub log', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses a capacity of %s', (capacity) => {
    expect(() => new Hub({ capacity, maxAgeMs: 1000 })).toThrow('hub capacity must be a positive integer');
  });

  it('holds one event with a capacity of 1', () => {
    const hub = new Hub({ capacity: 1, maxAgeMs: 1e12, bootId: 'test1' });
    hub.publish('cpu', cpu(1));
    hub.publish('cpu', cpu(2));
    expect(hub.capacity).toBe(1);
    expect(hub.length).toBe(1);
    expect(hub.entriesAfter(1)?.map((entry) => entry.seq)).toEqual([2]);
  });

  it('makes boot ids that are valid in an event id, and new each time', () => {
    const ids = new Set(Array.from({ length: 20 }, () => newBootId()));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(isBootId(id)).toBe(true);
    expect(new Hub({ capacity: 1, maxAgeMs: 1 }).bootId).toMatch(/^[a-z0-9]{12,}$/);
  });

  it('starts numbering at firstSeq (a mirror of another log), empty until the first event', () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1', firstSeq: 41 });
    expect(hub.lastSeq).toBe(40);
    expect(hub.firstSeq).toBe(41);
    expect(hub.entriesAfter(40)).toEqual([]);
    expect(hub.entriesAfter(39)).toBeNull();
    expect(hub.publish('cpu', cpu(1)).seq).toBe(41);
    expect(hub.publish('cpu', cpu(2)).bytes.toString()).toContain('id: test1-42\n');
  });

  it('keeps an event exactly as old as the history, and drops older ones', () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1000, bootId: 'test1' });
    hub.publish('cpu', cpu(1000));
    hub.publish('cpu', cpu(1500));
    hub.publish('cpu', cpu(2000));
    expect(hub.entriesSince(0, () => true).map((entry) => entry.t)).toEqual([1000, 1500, 2000]);
    hub.publish('cpu', cpu(2001));
    expect(hub.entriesSince(0, () => true).map((entry) => entry.t)).toEqual([1500, 2000, 2001]);
    expect(hub.firstSeq).toBe(2);
  });

  it('answers null for a resume point that is not a whole number', () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    hub.publish('cpu', cpu(1));
    hub.publish('cpu', cpu(2));
    expect(hub.entriesAfter(0.5)).toBeNull();
    expect(hub.entriesAfter(Number.NaN)).toBeNull();
    expect(hub.entriesAfter(Number.POSITIVE_INFINITY)).toBeNull();
    expect(hub.entriesAfter(1)?.map((entry) => entry.seq)).toEqual([2]);
  });

  it('lists events since a time that pass the filter, oldest first', () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    hub.publish('cpu', cpu(1));
    hub.publish('alert', alert(2));
    hub.publish('cpu', cpu(3));
    expect(hub.entriesSince(2, (event) => event === 'cpu').map((entry) => entry.seq)).toEqual([3]);
    expect(hub.entriesSince(2, () => true).map((entry) => entry.seq)).toEqual([2, 3]);
  });

  it('remembers the latest sample of each topic, not health or alert events', () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    hub.publish('cpu', cpu(1));
    hub.publish('alert', alert(2));
    expect(hub.latest('cpu')?.t).toBe(1);
    expect(hub.latest('alert' as 'cpu')).toBeUndefined();
    expect(isTopicEvent('cpu')).toBe(true);
    expect(isTopicEvent('requests')).toBe(true);
    expect(isTopicEvent('alert')).toBe(false);
    expect(isTopicEvent('health')).toBe(false);
    expect(isTopicEvent('hello')).toBe(false);
  });

  it('fans out once per turn however many events were published in it', async () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    const writes: Buffer[] = [];
    hub.subscribe({ wants: () => true, send: (bytes) => writes.push(bytes) });
    for (let t = 1; t <= 5; t++) hub.publish('cpu', cpu(t));
    await endOfTurn();
    await endOfTurn();
    expect(writes).toHaveLength(1);
    hub.publish('cpu', cpu(6));
    await endOfTurn();
    expect(writes).toHaveLength(2);
  });

  it('does not write to a subscriber that wants none of the turn', async () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    const writes: Buffer[] = [];
    hub.subscribe({ wants: (event) => event === 'alert', send: (bytes) => writes.push(bytes) });
    hub.publish('cpu', cpu(1));
    await endOfTurn();
    hub.broadcast(Buffer.from(': ping\n\n'));
    expect(writes.map((bytes) => bytes.toString())).toEqual([': ping\n\n']);
  });
});
