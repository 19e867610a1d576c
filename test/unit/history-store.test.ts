import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { queryRange } from '../../server/history/query.js';
import { parseRange } from '../../server/history/range-params.js';
import { HistoryStore, type HistoryStoreOptions } from '../../server/history/store.js';
import { chooseTier, DEFAULT_RETENTION, parseRetention } from '../../server/history/tiers.js';
import type { CpuSample } from '../../server/protocol.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1, 0);
const dirs: string[] = [];
const stores: HistoryStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-history-'));
  dirs.push(dir);
  return join(dir, 'data');
}

/** A store on a clock the test moves; its reports are collected instead of printed. */
function openStore(dir: string | null, clock: { now: number }, options: Partial<HistoryStoreOptions> = {}) {
  const lines: string[] = [];
  const store = HistoryStore.open({
    dir,
    retention: DEFAULT_RETENTION,
    memoryMs: HOUR,
    now: () => clock.now,
    log: (line) => lines.push(line),
    ...options,
  });
  stores.push(store);
  return { store, lines };
}

const cpu = (t: number, total: number): CpuSample => ({ t, total, user: total, system: 0, iowait: 0, cores: [total], load: [1, 1, 1] });

/** One cpu sample every `stepMs` from `from` to `to`, recorded as the clock passes each, with the store's periodic work every 5 s. */
async function feed(
  store: HistoryStore,
  clock: { now: number },
  from: number,
  to: number,
  stepMs = 10_000,
  value = (t: number) => (t / 1000) % 97,
) {
  for (let t = from; t < to; t += stepMs) {
    clock.now = t;
    store.record('cpu', cpu(t, value(t)));
    if (t % 5000 === 0) await store.tick();
  }
  clock.now = to;
  await store.tick();
}

/**
 * A 1m or 1h file read as the README describes it, without the store's code: "PBC1", u32 body bytes, u32
 * inflated bytes, then zlib of a u32-prefixed JSON header and each topic's float64 columns.
 */
function readColumnChunks(path: string) {
  const bytes = readFileSync(path);
  const chunks: { header: any; columns: Record<string, Record<string, number[]>> }[] = [];
  let at = 0;
  while (at + 12 <= bytes.length) {
    expect(bytes.toString('latin1', at, at + 4)).toBe('PBC1');
    const end = at + 12 + bytes.readUInt32LE(at + 4);
    if (end > bytes.length) break;
    const plain = inflateSync(bytes.subarray(at + 12, end));
    expect(plain.length).toBe(bytes.readUInt32LE(at + 8));
    const headerBytes = plain.readUInt32LE(0);
    const header = JSON.parse(plain.toString('utf8', 4, 4 + headerBytes));
    let offset = Math.ceil((4 + headerBytes) / 8) * 8;
    const columns: Record<string, Record<string, number[]>> = {};
    for (const topic of header.topics) {
      const read = () => {
        const values = Array.from({ length: topic.rows }, (_, i) => plain.readDoubleLE(offset + 8 * i));
        offset += 8 * topic.rows;
        return values;
      };
      const of: Record<string, number[]> = { t: read(), n: read() };
      for (const path of topic.paths) {
        of[path] = read();
        of[`${path}:min`] = read();
        of[`${path}:max`] = read();
      }
      columns[topic.topic] = of;
      offset += Math.ceil((topic.buckets > 0 ? topic.rows + 1 + 2 * topic.buckets : 0) / 2) * 8;
    }
    expect(offset).toBe(plain.length);
    chunks.push({ header, columns });
    at = end;
  }
  return { chunks, wholeBytes: at };
}

describe('history store', () => {
  it('seals each completed hour into a raw segment with its 1m and 1h rows, readable with gunzip and zlib', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const { store } = openStore(dir, clock);
    await feed(store, clock, T0, T0 + 3 * HOUR + 60_000);
    expect(readdirSync(join(dir, 'raw')).sort()).toEqual(['2026-11-01T00.ndjson.gz', '2026-11-01T01.ndjson.gz', '2026-11-01T02.ndjson.gz']);
    expect(readdirSync(join(dir, '1m'))).toEqual(['2026-11-01.cols']);
    expect(readdirSync(join(dir, '1h'))).toEqual(['2026-11.cols']);
    const line = JSON.parse(
      gunzipSync(readFileSync(join(dir, 'raw', '2026-11-01T01.ndjson.gz')))
        .toString()
        .split('\n')[0] as string,
    );
    expect(line).toMatchObject({ topic: 'cpu', tier: 'raw', from: T0 + HOUR, to: T0 + 2 * HOUR, t0: T0 + HOUR });
    expect(line.numbers.total).toHaveLength(360);

    const raw = store.raw('cpu', T0, T0 + 4 * HOUR);
    expect(raw).toHaveLength(3 * 360 + 6);
    expect(raw.map((row) => row.sample.t)).toEqual(Array.from({ length: 3 * 360 + 6 }, (_, i) => T0 + i * 10_000));
    const minutes = store.aggregates('1m', 'cpu', T0, T0 + 4 * HOUR);
    expect(minutes).toHaveLength(3 * 60 + 1);
    expect(minutes.every((row) => row.n === 6)).toBe(true);
    const hours = store.aggregates('1h', 'cpu', T0, T0 + 4 * HOUR);
    expect(hours.map((row) => row.n)).toEqual([360, 360, 360, 6]);
    expect(hours[1]?.paths.get('total')?.max).toBe(Math.max(...raw.slice(360, 720).map((row) => (row.sample as CpuSample).total)));
    // The files as a user reads them: one chunk per sealed hour; the hour's 1-minute means, mins and maxes of every number.
    const day = readColumnChunks(join(dir, '1m', '2026-11-01.cols')).chunks;
    expect(day.map((chunk) => chunk.header.from)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    const second = day[1]?.columns.cpu as Record<string, number[]>;
    expect(second.t).toEqual(Array.from({ length: 60 }, (_, i) => T0 + HOUR + i * 60_000));
    const firstMinute = raw.slice(360, 366).map((row) => (row.sample as CpuSample).total);
    expect(second.total?.[0]).toBeCloseTo(firstMinute.reduce((a, b) => a + b, 0) / 6, 9);
    expect(second['total:min']?.[0]).toBe(Math.min(...firstMinute));
    expect(second['total:max']?.[0]).toBe(Math.max(...firstMinute));
    const month = readColumnChunks(join(dir, '1h', '2026-11.cols')).chunks;
    expect(month.map((chunk) => chunk.columns.cpu?.n)).toEqual([[360], [360], [360]]);
    // 10-minute rows: six per sealed hour, the mean, min and max of their minutes' samples.
    const tens = readColumnChunks(join(dir, '10m', '2026-11-01.cols')).chunks;
    expect(tens.map((chunk) => chunk.columns.cpu?.n)).toEqual([
      [60, 60, 60, 60, 60, 60],
      [60, 60, 60, 60, 60, 60],
      [60, 60, 60, 60, 60, 60],
    ]);
    const tenOfSecond = tens[1]?.columns.cpu as Record<string, number[]>;
    const firstTen = raw.slice(360, 420).map((row) => (row.sample as CpuSample).total);
    expect(tenOfSecond.t?.[0]).toBe(T0 + HOUR);
    expect(tenOfSecond.total?.[0]).toBeCloseTo(firstTen.reduce((a, b) => a + b, 0) / 60, 9);
    expect(tenOfSecond['total:min']?.[0]).toBe(Math.min(...firstTen));
    expect(tenOfSecond['total:max']?.[0]).toBe(Math.max(...firstTen));
    expect(store.aggregates('10m', 'cpu', T0, T0 + 4 * HOUR).map((row) => row.n)).toEqual([...new Array(18).fill(60), 6]);
  });

  it("answers 10-minute rows from a day's 1-minute file when the day has no 10-minute file (a store from before that tier), and writes its earlier hours with the next seal", async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(dir, clock);
    await feed(first.store, clock, T0, T0 + 3 * HOUR + 60_000);
    const expected = first.store.aggregates('10m', 'cpu', T0, T0 + 3 * HOUR - 1);
    first.store.close();
    stores.splice(0);
    // As a store written before the 10m tier: no 10m directory.
    rmSync(join(dir, '10m'), { recursive: true });
    const second = openStore(dir, clock);
    const fromMinutes = second.store.aggregates('10m', 'cpu', T0, T0 + 3 * HOUR - 1);
    expect(fromMinutes).toEqual(expected);
    const answer = queryRange(second.store, { topics: ['cpu'], from: T0, to: T0 + 3 * HOUR - 1, points: 20 }, 10_000, clock.now);
    expect(answer).toMatchObject({ tier: '10m', step: 600_000 });
    expect(answer.series.cpu?.t).toEqual(expected.map((row) => row.t));
    // The next hour sealed begins the day's 10m file with the hours before it.
    await feed(second.store, clock, T0 + 3 * HOUR + 60_000, T0 + 4 * HOUR + 60_000);
    const tens = readColumnChunks(join(dir, '10m', '2026-11-01.cols')).chunks;
    expect(tens.map((chunk) => [chunk.header.from, chunk.header.to])).toEqual([
      [T0, T0 + 3 * HOUR],
      [T0 + 3 * HOUR, T0 + 4 * HOUR],
    ]);
    expect(tens[0]?.columns.cpu?.n).toEqual(new Array(18).fill(60));
    expect(second.store.aggregates('10m', 'cpu', T0, T0 + 3 * HOUR - 1)).toEqual(expected);
  });

  it('appends each sealed hour to the day and month files, and cuts off a chunk torn by a crash before appending', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(dir, clock);
    await feed(first.store, clock, T0, T0 + HOUR + 60_000);
    first.store.close();
    stores.splice(0);
    const dayFile = join(dir, '1m', '2026-11-01.cols');
    const whole = readFileSync(dayFile);
    // A crash mid-append: half of a second chunk.
    writeFileSync(dayFile, Buffer.concat([whole, whole.subarray(0, Math.floor(whole.length / 2))]));
    const second = openStore(dir, clock);
    // The torn chunk is not read as rows.
    expect(second.store.aggregates('1m', 'cpu', T0, clock.now)).toHaveLength(60 + 1);
    await feed(second.store, clock, T0 + HOUR + 60_000, T0 + 3 * HOUR + 60_000);
    const { chunks, wholeBytes } = readColumnChunks(dayFile);
    expect(wholeBytes).toBe(readFileSync(dayFile).length);
    expect(chunks.map((chunk) => chunk.header.from)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    expect(second.store.aggregates('1m', 'cpu', T0, clock.now)).toHaveLength(3 * 60 + 1);
  });

  it('rolls the open hour up to minutes as it grows: each query has the minutes completed since the last one', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const { store } = openStore(dir, clock);
    await feed(store, clock, T0, T0 + 20 * 60_000 + 30_000);
    const early = store.aggregates('1m', 'cpu', T0, clock.now);
    expect(early.map((row) => row.n)).toEqual([...new Array(20).fill(6), 3]);
    await feed(store, clock, T0 + 20 * 60_000 + 30_000, T0 + 40 * 60_000 + 10_000);
    const later = store.aggregates('1m', 'cpu', T0, clock.now);
    expect(later.map((row) => row.n)).toEqual([...new Array(40).fill(6), 1]);
    const minute = later[25] as (typeof later)[number];
    const samples = store.raw('cpu', minute.t, minute.t + 59_999).map((row) => (row.sample as CpuSample).total);
    expect(minute.paths.get('total')?.max).toBe(Math.max(...samples));
    expect(minute.paths.get('total')?.sum).toBeCloseTo(
      samples.reduce((a, b) => a + b, 0),
      9,
    );
  });

  it('turns the open hour read back at start into columns in the background, and keeps the samples that come meanwhile in order', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(dir, clock);
    await feed(first.store, clock, T0, T0 + 40 * 60_000, 1000);
    first.store.close();
    stores.splice(0);
    clock.now = T0 + 41 * 60_000;
    const times = (store: HistoryStore) => store.raw('cpu', T0, clock.now).map((row) => row.sample.t);
    const expected = (count: number) => Array.from({ length: count }, (_, i) => T0 + i * 1000);
    for (const queryAt of ['before the columns are filled', 'after'] as const) {
      // Each round on its own copy of the journal, as a server started after the kill.
      const copy = `${dir}-${queryAt === 'after' ? 'after' : 'before'}`;
      cpSync(dir, copy, { recursive: true });
      writeFileSync(join(copy, 'pulseboard.lock'), '999999999 deadbeef\n');
      const { store } = openStore(copy, clock);
      store.start();
      // 2 400 rows: filled over three turns of the event loop; new samples come after the first.
      await new Promise((resolve) => setImmediate(resolve));
      for (let t = T0 + 40 * 60_000; t < T0 + 40 * 60_000 + 5000; t += 1000) store.record('cpu', cpu(t, 1));
      if (queryAt === 'after') for (let turn = 0; turn < 4; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(times(store)).toEqual(expected(2405));
      store.record('cpu', cpu(T0 + 40 * 60_000 + 5000, 1));
      for (let turn = 0; turn < 4; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(times(store)).toEqual(expected(2406));
    }
  });

  it('reads the journal and the segments back after a restart', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(dir, clock);
    await feed(first.store, clock, T0, T0 + HOUR + 30 * 60_000);
    // No close: the process was killed. Its lock names a pid that is not running any more.
    writeFileSync(join(dir, 'pulseboard.lock'), '999999999 deadbeef\n');
    stores.splice(stores.indexOf(first.store), 1);
    const second = openStore(dir, clock);
    expect(second.store.writing).toBe(true);
    expect(second.store.raw('cpu', T0, clock.now)).toHaveLength(360 + 180);
  });

  it('deletes what is older than each tier is kept, by its own clock', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const { store } = openStore(dir, clock, { retention: { raw: 2 * HOUR, '1m': 24 * HOUR, '10m': 24 * HOUR, '1h': 40 * 24 * HOUR } });
    await feed(store, clock, T0, T0 + 4 * HOUR + 60_000, 60_000);
    expect(readdirSync(join(dir, 'raw')).sort()).toEqual(['2026-11-01T02.ndjson.gz', '2026-11-01T03.ndjson.gz']);
    expect(store.raw('cpu', T0, clock.now)[0]?.sample.t).toBe(T0 + 2 * HOUR + 60_000);
    clock.now = T0 + 26 * HOUR;
    await store.tick();
    expect(readdirSync(join(dir, 'raw'))).toEqual([]);
    // The day's file still holds rows younger than a day; older rows are no longer answered.
    expect(store.aggregates('1m', 'cpu', T0, clock.now)[0]?.t).toBe(T0 + 2 * HOUR);
    clock.now = T0 + 48 * HOUR;
    await store.tick();
    expect(readdirSync(join(dir, '1m'))).toEqual([]);
    expect(readdirSync(join(dir, '10m'))).toEqual([]);
    expect(readdirSync(join(dir, '1h'))).toEqual(['2026-11.cols']);
    expect(store.aggregates('1h', 'cpu', T0, clock.now)).toHaveLength(5);
    clock.now = Date.UTC(2026, 11, 1) + 40 * 24 * HOUR;
    await store.tick();
    expect(readdirSync(join(dir, '1h'))).toEqual([]);
  });

  it('answers a range from the tier that fits the points asked for', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const { store } = openStore(dir, clock);
    await feed(store, clock, T0, T0 + 6 * HOUR, 1000);
    const now = clock.now;
    const lastHour = queryRange(store, { topics: ['cpu'], from: now - HOUR, to: now, points: 4000 }, 1000, now);
    expect(lastHour).toMatchObject({ tier: 'raw', step: 1000 });
    expect(lastHour.series.cpu?.t).toHaveLength(3600);
    const merged = queryRange(store, { topics: ['cpu'], from: now - HOUR, to: now, points: 1200 }, 1000, now);
    expect(merged).toMatchObject({ tier: 'raw', step: 3000 });
    expect(merged.series.cpu?.t.length).toBeLessThanOrEqual(1201);
    expect(merged.bands?.max.cpu?.total.length).toBe(merged.series.cpu?.t.length);
    const sixHours = queryRange(store, { topics: ['cpu'], from: now - 6 * HOUR, to: now, points: 300 }, 1000, now);
    expect(sixHours).toMatchObject({ tier: '1m', step: 120_000 });
    expect(sixHours.series.cpu?.t).toHaveLength(180);
  });

  it('keeps samples in memory only with no directory', async () => {
    const clock = { now: T0 };
    const { store } = openStore(null, clock);
    await feed(store, clock, T0, T0 + 2 * HOUR, 10_000);
    expect(store.status()).toMatchObject({ writing: false, dir: null, error: null, bytes: 0 });
    expect(store.raw('cpu', 0, clock.now)[0]?.sample.t).toBe(T0 + HOUR);
  });

  it('holds about --history of samples with no directory: what is older is cut off in eighths, not kept', async () => {
    const clock = { now: T0 };
    const { store } = openStore(null, clock);
    await feed(store, clock, T0, T0 + 3 * HOUR, 10_000);
    const oldest = store.status().oldest as number;
    expect(oldest).toBeGreaterThanOrEqual(clock.now - HOUR - HOUR / 8);
    expect(store.raw('cpu', 0, clock.now).map((row) => row.sample.t)).toEqual(
      Array.from({ length: 360 }, (_, i) => clock.now - HOUR + i * 10_000),
    );
  });

  it('answers a memory-only store of more samples than a call takes arguments (200 000)', async () => {
    const clock = { now: T0 };
    const { store } = openStore(null, clock, { memoryMs: 2 * HOUR });
    for (let i = 0; i < 200_000; i++) store.record('cpu', cpu(T0 + i * 10, 1));
    clock.now = T0 + 200_000 * 10;
    expect(store.raw('cpu', T0, clock.now)).toHaveLength(200_000);
  });

  it('seals an hour whose samples came out of order (a clock stepped back) in time order, every one of them', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const { store } = openStore(dir, clock);
    const times = [T0 + 20_000, T0 + 10_000, T0 + 30_000, T0 + 5000];
    for (const t of times) store.record('cpu', cpu(t, t / 1000));
    clock.now = T0 + HOUR + 1000;
    store.record('cpu', cpu(clock.now, 1));
    await store.tick();
    expect(existsSync(join(dir, 'raw', '2026-11-01T00.ndjson.gz'))).toBe(true);
    expect(store.raw('cpu', T0, T0 + HOUR - 1).map((row) => row.sample.t)).toEqual([...times].sort((a, b) => a - b));
    expect(store.raw('cpu', T0 + HOUR, clock.now).map((row) => row.sample.t)).toEqual([clock.now]);
  });
});

describe("the open hour's oldest row, not its first, says whether an hour is to be sealed", () => {
  it('seals a past hour whose only row came after a row of the current hour (a clock stepped back)', async () => {
    const dir = tempDir();
    const clock = { now: T0 + HOUR + 2000 };
    const { store } = openStore(dir, clock);
    store.record('cpu', cpu(T0 + HOUR + 1000, 1));
    store.record('cpu', cpu(T0 + HOUR - 1000, 2));
    await store.tick();
    expect(existsSync(join(dir, 'raw', '2026-11-01T00.ndjson.gz'))).toBe(true);
    expect(store.raw('cpu', T0, T0 + HOUR - 1).map((row) => row.sample.t)).toEqual([T0 + HOUR - 1000]);
  });
});

describe('history store in bad states: one line, memory takes over, nothing on disk is touched', () => {
  it('refuses a directory that holds other files', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const { store, lines } = openStore(dir, { now: T0 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/not a pulseboard data directory.*history is not being written/);
    expect(store.status()).toMatchObject({ writing: false, dir });
    store.record('cpu', cpu(T0, 1));
    await store.tick();
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(store.raw('cpu', 0, T0)).toHaveLength(1);
  });

  it('refuses a corrupt marker and a corrupt journal, and leaves them as they are', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    openStore(dir, clock).store.close();
    writeFileSync(join(dir, 'journal.ndjson'), `${JSON.stringify({ topic: 'cpu', sample: cpu(T0, 1) })}\nnot json at all\n`);
    const corruptJournal = openStore(dir, clock);
    expect(corruptJournal.lines).toEqual([expect.stringMatching(/journal\.ndjson line 2 is not a pulseboard sample.*not being written/)]);
    corruptJournal.store.close();
    expect(readFileSync(join(dir, 'journal.ndjson'), 'utf8')).toContain('not json at all');
    writeFileSync(join(dir, 'pulseboard-history.json'), '{"format":');
    const corruptMarker = openStore(dir, clock);
    expect(corruptMarker.lines).toEqual([expect.stringMatching(/pulseboard-history\.json is unreadable or corrupt/)]);
  });

  it('takes a journal whose last line was torn by a kill', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    openStore(dir, clock).store.close();
    writeFileSync(join(dir, 'journal.ndjson'), `${JSON.stringify({ topic: 'cpu', sample: cpu(T0, 1) })}\n{"topic":"cpu","sam`);
    const { store, lines } = openStore(dir, clock);
    expect(lines).toEqual([]);
    expect(store.raw('cpu', 0, T0)).toHaveLength(1);
  });

  it('refuses a directory another store writes to', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(dir, clock);
    const second = openStore(dir, clock);
    expect(first.store.writing).toBe(true);
    expect(second.store.writing).toBe(false);
    expect(second.lines).toEqual([expect.stringMatching(/another store of this process writes to it/)]);
  });

  it('skips a corrupt segment when reading, reports it once, and leaves it', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const { store, lines } = openStore(dir, clock);
    await feed(store, clock, T0, T0 + HOUR + 60_000);
    const path = join(dir, 'raw', '2026-11-01T00.ndjson.gz');
    writeFileSync(path, 'garbage');
    store.close();
    stores.splice(0);
    const reopened = openStore(dir, clock);
    expect(reopened.store.raw('cpu', T0, clock.now)).toHaveLength(6);
    reopened.store.raw('cpu', T0, clock.now);
    expect(reopened.lines).toEqual([expect.stringMatching(/2026-11-01T00\.ndjson\.gz is not a gzip file; skipped/)]);
    expect(readFileSync(path, 'utf8')).toBe('garbage');
    expect(existsSync(path)).toBe(true);
    void lines;
  });

  it('skips a 1m file that is not ours when reading, reports it once, and leaves it; the next seal says to move it', async () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const { store, lines } = openStore(dir, clock);
    await feed(store, clock, T0, T0 + HOUR + 60_000);
    const path = join(dir, '1m', '2026-11-01.cols');
    writeFileSync(path, 'garbage that is long enough to look like a prefix');
    store.close();
    stores.splice(0);
    const reopened = openStore(dir, clock);
    expect(reopened.store.aggregates('1m', 'cpu', T0, clock.now)).toHaveLength(1);
    reopened.store.aggregates('1m', 'cpu', T0, clock.now);
    expect(reopened.lines).toEqual([expect.stringMatching(/2026-11-01\.cols: bytes at 0 are not a pulseboard column chunk; skipped/)]);
    await feed(reopened.store, clock, T0 + HOUR + 60_000, T0 + 2 * HOUR + 60_000);
    expect(reopened.lines[1]).toMatch(/2026-11-01\.cols: bytes at 0 are not a pulseboard column chunk; move it away.*not being written/);
    expect(readFileSync(path, 'utf8')).toBe('garbage that is long enough to look like a prefix');
    void lines;
  });
});

describe('retention, tiers and ranges', () => {
  it('parses --retention and rejects what cannot work', async () => {
    expect(parseRetention('raw=48h,1h=2y')).toEqual({
      ok: true,
      value: { raw: 48 * HOUR, '1m': 30 * 24 * HOUR, '10m': 90 * 24 * HOUR, '1h': 2 * 365 * 24 * HOUR },
    });
    // 10m, when not given, is kept at least as long as 1m and at most as long as 1h.
    expect(parseRetention('1m=120d')).toMatchObject({ ok: true, value: { '1m': 120 * 24 * HOUR, '10m': 120 * 24 * HOUR } });
    expect(parseRetention('1m=7d,1h=14d')).toMatchObject({ ok: true, value: { '10m': 14 * 24 * HOUR, '1h': 14 * 24 * HOUR } });
    expect(parseRetention('10m=60d')).toMatchObject({ ok: true, value: { '1m': 30 * 24 * HOUR, '10m': 60 * 24 * HOUR } });
    expect(parseRetention('10m=7d')).toMatchObject({ ok: false, error: expect.stringContaining('raw <= 1m <= 10m <= 1h') });
    expect(parseRetention('raw=10m')).toMatchObject({ ok: false, error: expect.stringContaining('raw: must be from 1h') });
    expect(parseRetention('raw=40d')).toMatchObject({ ok: false });
    expect(parseRetention('1m=2d,raw=3d')).toMatchObject({ ok: false, error: expect.stringContaining('finer tier') });
    expect(parseRetention('5m=1d')).toMatchObject({ ok: false, error: expect.stringContaining('tier=duration') });
  });

  it('chooses the coarsest tier that still fits the points, among those that hold the start', async () => {
    const now = T0 + 400 * 24 * HOUR;
    const pick = (range: number, points: number) => chooseTier(now - range, now, points, 1000, DEFAULT_RETENTION, now);
    expect(pick(5 * 60_000, 1000)).toEqual({ tier: 'raw', tierStep: 1000, step: 1000 });
    expect(pick(HOUR, 1200)).toEqual({ tier: 'raw', tierStep: 1000, step: 3000 });
    expect(pick(24 * HOUR, 1200)).toEqual({ tier: '1m', tierStep: 60_000, step: 120_000 });
    expect(pick(7 * 24 * HOUR, 1200)).toEqual({ tier: '10m', tierStep: 600_000, step: 600_000 });
    expect(pick(7 * 24 * HOUR, 3000)).toEqual({ tier: '1m', tierStep: 60_000, step: 240_000 });
    expect(pick(30 * 24 * HOUR, 1000)).toEqual({ tier: '1h', tierStep: HOUR, step: HOUR });
    expect(pick(365 * 24 * HOUR, 1000)).toEqual({ tier: '1h', tierStep: HOUR, step: 9 * HOUR });
    // An hour three days ago: raw samples are gone, 1-minute rows remain.
    expect(chooseTier(now - 72 * HOUR, now - 71 * HOUR, 1200, 1000, DEFAULT_RETENTION, now).tier).toBe('1m');
    // A day 60 days ago: 1-minute rows are gone, 10-minute rows remain.
    expect(chooseTier(now - 60 * 24 * HOUR, now - 59 * 24 * HOUR, 1000, 1000, DEFAULT_RETENTION, now).tier).toBe('10m');
  });

  it('parses from, to and points, and says why a range is bad', async () => {
    const now = T0;
    expect(parseRange({ from: '-24h' }, now)).toEqual({ ok: true, from: now - 24 * HOUR, to: now, points: 1000 });
    expect(parseRange({ from: '-1y', to: 'now', points: '500' }, now)).toMatchObject({
      ok: true,
      from: now - 365 * 24 * HOUR,
      points: 500,
    });
    expect(parseRange({ from: String(now), to: String(now - 1) }, now)).toMatchObject({
      ok: false,
      error: expect.stringContaining('must be before to'),
    });
    expect(parseRange({ from: 'yesterday' }, now)).toMatchObject({ ok: false, error: expect.stringContaining('from must be') });
    expect(parseRange({ from: '-1h', points: '0' }, now)).toMatchObject({ ok: false, error: expect.stringContaining('points must be') });
    expect(parseRange({ from: '-1h', points: '1e9' }, now)).toMatchObject({ ok: false });
    expect(parseRange({ to: 'now' }, now)).toMatchObject({ ok: false, error: expect.stringContaining('from is required') });
  });
});
