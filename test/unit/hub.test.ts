import { describe, expect, it, vi } from 'vitest';
import type { DiskSample, LoggedEventName, MemorySample } from '../../server/protocol.js';
import { Hub, type LogEntry } from '../../server/stream/hub.js';

const disk = (t: number): DiskSample => ({ t, read: t, write: 0 });
const memory = (t: number): MemorySample => ({ t, total: 8, used: 4, available: 4, cached: 1, buffers: 0, swapTotal: 0, swapUsed: 0 });
/** Fan-out happens once the publishing turn of the event loop is over. */
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

function hubWith(count: number, capacity = 10, maxAgeMs = 1e12): Hub {
  const hub = new Hub({ capacity, maxAgeMs, bootId: 'test1' });
  for (let i = 1; i <= count; i++) hub.publish('disk', disk(i * 1000));
  return hub;
}

const seqs = (entries: LogEntry[] | null) => entries?.map((entry) => entry.seq) ?? null;

describe('Hub event log', () => {
  it('numbers events from 1 and encodes each with its id once', () => {
    const hub = hubWith(3);
    expect(hub.firstSeq).toBe(1);
    expect(hub.lastSeq).toBe(3);
    const [entry] = hub.entriesAfter(0) ?? [];
    expect(entry?.bytes.toString()).toBe('id: test1-1\nevent: disk\ndata: {"t":1000,"read":1000,"write":0}\n\n');
  });

  it('replays exactly the events after a seq, in order', () => {
    const hub = hubWith(5);
    expect(seqs(hub.entriesAfter(2))).toEqual([3, 4, 5]);
    expect(seqs(hub.entriesAfter(5))).toEqual([]);
  });

  it('refuses to resume from a seq it has not reached, or one already dropped', () => {
    const hub = hubWith(15, 10);
    expect(hub.firstSeq).toBe(6);
    expect(seqs(hub.entriesAfter(5))).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(hub.entriesAfter(4)).toBeNull();
    expect(hub.entriesAfter(16)).toBeNull();
    expect(hub.entriesAfter(-1)).toBeNull();
  });

  it('keeps its size at capacity however many events pass through, wrapping the ring', () => {
    const hub = hubWith(10_007, 10);
    expect(hub.length).toBe(10);
    expect(seqs(hub.entriesAfter(10_000))).toEqual([10_001, 10_002, 10_003, 10_004, 10_005, 10_006, 10_007]);
  });

  it('drops events older than the history by sample time', () => {
    const hub = hubWith(10, 100, 3000);
    expect(hub.firstSeq).toBe(7);
    expect(seqs(hub.entriesSince(8000, () => true))).toEqual([8, 9, 10]);
  });

  it('resumes from seq 0 on an empty log', () => {
    const hub = new Hub({ capacity: 4, maxAgeMs: 1000 });
    expect(seqs(hub.entriesAfter(0))).toEqual([]);
    expect(hub.lastSeq).toBe(0);
  });

  it('fans the same bytes out to the subscribers that want the event, and stops after unsubscribe', async () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    const got: Buffer[] = [];
    const memoryOnly: Buffer[] = [];
    const unsubscribe = hub.subscribe({ wants: () => true, send: (bytes) => got.push(bytes) });
    hub.subscribe({ wants: (event: LoggedEventName) => event === 'memory', send: (bytes) => memoryOnly.push(bytes) });
    const entry = hub.publish('disk', disk(1));
    await endOfTurn();
    expect(got[0]).toBe(entry.bytes);
    expect(memoryOnly).toHaveLength(0);
    unsubscribe();
    hub.publish('disk', disk(2));
    await endOfTurn();
    expect(got).toHaveLength(1);
    expect(hub.subscriberCount).toBe(1);
  });

  it('sends the events of one turn in one write, each subscriber what it wants and does not have yet', async () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    const all: Buffer[] = [];
    const alsoAll: Buffer[] = [];
    const diskOnly: Buffer[] = [];
    const late: Buffer[] = [];
    hub.subscribe({ wants: () => true, send: (bytes) => all.push(bytes) });
    hub.subscribe({ wants: () => true, send: (bytes) => alsoAll.push(bytes) });
    hub.subscribe({ wants: (event: LoggedEventName) => event === 'disk', send: (bytes) => diskOnly.push(bytes) });
    const first = hub.publish('disk', disk(1));
    const second = hub.publish('memory', memory(1));
    // Subscribed after `first` and `second` were logged: its handshake had them.
    hub.subscribe({ wants: () => true, send: (bytes) => late.push(bytes) });
    const third = hub.publish('disk', disk(2));
    expect(all).toHaveLength(0);
    await endOfTurn();
    expect(all).toEqual([Buffer.concat([first.bytes, second.bytes, third.bytes])]);
    expect(alsoAll[0]).toBe(all[0]);
    expect(diskOnly).toEqual([Buffer.concat([first.bytes, third.bytes])]);
    expect(late).toEqual([third.bytes]);
  });

  it('sends pending events before a heartbeat, so the order on the wire is the order of publishing', () => {
    const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
    const got: Buffer[] = [];
    hub.subscribe({ wants: () => true, send: (bytes) => got.push(bytes) });
    const entry = hub.publish('disk', disk(1));
    const ping = Buffer.from(': ping\n\n');
    hub.broadcast(ping);
    expect(got).toEqual([entry.bytes, ping]);
  });

  it('remembers the latest sample per topic', () => {
    const hub = hubWith(3);
    expect(hub.latest('disk')?.data.t).toBe(3000);
    expect(hub.latest('cpu')).toBeUndefined();
  });
});

describe('history series', () => {
  it('keeps route and interface lists on the newest row only, so a backfill stays small', async () => {
    const { seriesSince } = await import('../../server/stream/service.js');
    const hub = new Hub({ capacity: 100, maxAgeMs: 1e12, bootId: 'test1' });
    for (let t = 1; t <= 3; t++) hub.publish('network', { t, rx: t, tx: 0, interfaces: [{ name: 'eth0', rx: t, tx: 0 }] });
    const series = seriesSince(hub, ['network'], 0);
    expect(series.network?.rx).toEqual([1, 2, 3]);
    expect(series.network?.interfaces).toEqual([[], [], [{ name: 'eth0', rx: 3, tx: 0 }]]);
  });

  it('with no subscriber, neither encodes a published event nor queues a fan-out; the bytes are made once when first needed', () => {
    vi.useFakeTimers({ toFake: ['setImmediate'] });
    const from = vi.spyOn(Buffer, 'from');
    try {
      const hub = new Hub({ capacity: 10, maxAgeMs: 1e12, bootId: 'test1' });
      const payload = disk(1000);
      const entry = hub.publish('disk', payload);
      expect(from).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
      // The frame was taken at publish time: a payload changed later does not change what is sent.
      payload.read = 5;
      const bytes = entry.bytes;
      expect(bytes.toString()).toBe('id: test1-1\nevent: disk\ndata: {"t":1000,"read":1000,"write":0}\n\n');
      expect(entry.bytes).toBe(bytes);
      expect(from).toHaveBeenCalledTimes(1);

      hub.subscribe({ wants: () => true, send: () => {} });
      hub.publish('disk', disk(2000));
      expect(vi.getTimerCount()).toBe(1);
    } finally {
      from.mockRestore();
      vi.useRealTimers();
    }
  });
});
