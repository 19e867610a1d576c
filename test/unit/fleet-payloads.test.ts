import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../server/alerts/rules.js';
import type { AgentInfo } from '../../server/fleet/keys.js';
import { agentInfo, PAYLOAD_SCHEMAS, parseAgentInfo, parseEntry } from '../../server/fleet/payloads.js';
import { check } from '../../server/fleet/schema.js';
import { Monitor } from '../../server/monitor.js';
import type { LoggedEventName } from '../../server/protocol.js';
import { RequestStats } from '../../server/requests/stats.js';
import { agentInfo as agentInfos, broken, EVENT_NAMES, fuzzEntry, PAYLOADS } from '../helpers/payloads.js';
import { testConfig } from '../helpers/server.js';

/** Inputs the property tests below ran, for the report at the end. */
let inputs = 0;
afterAll(() => console.log(`fleet payload schemas: ${inputs} generated inputs`));

/** A JSON round trip: what an agent's JSON.stringify and a hub's JSON.parse make of a value. */
const viaJson = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('the hub schemas of the protocol', () => {
  it('accept every event a real monitor publishes and every info an agent writes, unchanged', async () => {
    const failing = { topic: 'temperature' as const, source: 'test', cadenceMs: 100, sample: () => Promise.reject(new Error('no sensor')) };
    const config = testConfig({
      filesystemIntervalMs: 100,
      alerts: { rules: [{ name: 'always', metric: 'cpu', above: -1, forMs: 0, severity: 'warning' }], thresholds: DEFAULT_THRESHOLDS },
    });
    const monitor = await Monitor.create({ config, requestStats: new RequestStats({ source: 'self' }), extraCollectors: [failing] });
    const seen = new Map<LoggedEventName, unknown[]>();
    monitor.onEvent((event, data) => seen.set(event, [...(seen.get(event) ?? []), data]));
    monitor.start();
    try {
      const deadline = Date.now() + 10_000;
      // Every topic but the failing one (this machine has no sensors: temperature payloads come from the property below).
      const expected: LoggedEventName[] = ['alert', 'health', ...monitor.topics.filter((topic) => topic !== failing.topic)];
      while (!expected.every((event) => seen.has(event))) {
        if (Date.now() > deadline) throw new Error(`events seen: ${[...seen.keys()].join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const [event, payloads] of seen) {
        for (const data of payloads) {
          const parsed = parseEntry(['e', event, 'd', JSON.stringify(data)]);
          expect(parsed, event).toEqual({ ok: true, value: { event, data: viaJson(data) } });
        }
      }
      const { t: _t, mode: _mode, history: _history, alertChannels: _channels, ...hello } = monitor.hello(monitor.topics, 'fresh');
      const info: AgentInfo = {
        ...hello,
        bootId: '1795000000000',
        name: 'web-1',
        alerts: monitor.activeAlerts(),
        capacity: monitor.hub.capacity,
      };
      expect(parseAgentInfo(JSON.stringify(info))).toEqual({ ok: true, value: viaJson(info) });
    } finally {
      monitor.close();
    }
  });

  it('accept every payload the protocol types allow (property), as they are', () => {
    for (const event of EVENT_NAMES) {
      fc.assert(
        fc.property(PAYLOADS[event] as fc.Arbitrary<unknown>, (data) => {
          inputs++;
          expect(check(PAYLOAD_SCHEMAS[event] as (value: unknown, path: string) => unknown, viaJson(data))).toEqual({
            ok: true,
            value: viaJson(data),
          });
        }),
        { numRuns: 300 },
      );
    }
    fc.assert(
      fc.property(agentInfos, (info) => {
        inputs++;
        expect(check(agentInfo, viaJson(info))).toEqual({ ok: true, value: viaJson(info) });
      }),
      { numRuns: 300 },
    );
  });

  it('refuse a payload broken in any one place (property), naming where', () => {
    for (const event of EVENT_NAMES) {
      const brokenPayloads = (PAYLOADS[event] as fc.Arbitrary<unknown>).chain((data) => broken(data));
      fc.assert(
        fc.property(brokenPayloads, ({ json }) => {
          inputs++;
          const result = parseEntry(['e', event, 'd', JSON.stringify(json)]);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.error).toMatch(new RegExp(`^${event} \\S*: expected `));
        }),
        { numRuns: 300 },
      );
    }
    fc.assert(
      fc.property(
        agentInfos.chain((info) => broken(info)),
        ({ json }) => {
          inputs++;
          expect(parseAgentInfo(JSON.stringify(json)).ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('tell every fuzzed stream entry apart as the generator made it (property)', () => {
    fc.assert(
      fc.property(fuzzEntry, (entry) => {
        inputs++;
        expect(parseEntry(entry.fields).ok, entry.what).toBe(entry.valid);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['cores null (issue 14)', ['e', 'cpu', 'd', '{"t":1,"cores":null}'], /^cpu total: expected a value \(it is missing\)$/],
    [
      'cores null, the rest there',
      ['e', 'cpu', 'd', '{"t":1,"total":1,"user":1,"system":0,"iowait":0,"cores":null,"load":[0,0,0]}'],
      /^cpu cores: expected a list/,
    ],
    ['collectors null (issue 14)', ['e', 'health', 'd', '{"t":1,"collectors":null}'], /^health collectors: expected a list/],
    ['a number past the double range', ['e', 'disk', 'd', '{"t":1,"read":1e400,"write":0}'], /^disk read: expected a finite number/],
    [
      'an unknown topic in a health entry',
      ['e', 'health', 'd', '{"t":1,"collectors":[{"topic":"gpu"}]}'],
      /collectors\[0\]\.topic: expected one of cpu, memory/,
    ],
    ['an unknown event', ['e', '__proto__', 'd', '{"t":1}'], /^unknown event "__proto__"$/],
    [
      'a JSON text over 1 MiB',
      ['e', 'disk', 'd', `{"t":1,"read":1,"write":1,"pad":"${'x'.repeat(1024 * 1024)}"}`],
      /^disk: 1048\d+ characters of JSON, over 1048576$/,
    ],
  ])('refuse %s with a one-line reason', (_name, fields, reason) => {
    const result = parseEntry(fields);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatch(reason);
      expect(result.error).not.toContain('\n');
    }
  });

  it('leave out object keys the protocol does not name', () => {
    const result = parseEntry(['e', 'disk', 'd', '{"t":1,"read":2,"write":3,"extra":"big","__proto__":{"polluted":true}}']);
    expect(result).toEqual({ ok: true, value: { event: 'disk', data: { t: 1, read: 2, write: 3 } } });
  });

  it.each([
    ['a newline in bootId (issue 14)', { bootId: '1700000000000\nevil: 1' }, /^bootId: expected up to 16 digits$/],
    ['retryMs not a number (issue 14)', { retryMs: 'soon' }, /^retryMs: expected an integer of at least 0 up to 604800000$/],
    ['capacity past 50 million', { capacity: 60_000_000 }, /^capacity: expected an integer of at least 1 up to 50000000$/],
    ['an unknown topic', { topics: ['cpu', 'gpu'] }, /^topics\[1\]: expected one of cpu/],
  ])('refuse an info hash with %s', async (_name, change, reason) => {
    const [valid] = fc.sample(agentInfos, { numRuns: 1, seed: 14 });
    const result = parseAgentInfo(JSON.stringify({ ...valid, ...change }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(reason);
  });
});

describe("a requests entry's latency buckets", () => {
  const requests = JSON.stringify({
    t: 1,
    source: 'self',
    count: 3,
    rate: 3,
    inFlight: 0,
    status: { '1xx': 0, '2xx': 3, '3xx': 0, '4xx': 0, '5xx': 0, aborted: 0 },
    latency: { p50: 1, p90: 1, p99: 900, max: 900 },
    bytes: 10,
    window: { ms: 60_000, count: 3, errors: 0, latency: { p50: 1, p90: 1, p99: 900, max: 900 } },
    routes: [],
  });
  const entry = (buckets: string, event = 'requests', json = requests) => ['e', event, 'd', json, 'b', buckets];

  it('are read with the sample when they fit, and are absent for an agent that sends none', () => {
    const read = parseEntry(entry('{"v":[1023,899071],"c":[2,1]}'));
    expect(read.ok && read.value.buckets).toEqual({ v: [1023, 899_071], c: [2, 1] });
    const older = parseEntry(['e', 'requests', 'd', requests]);
    expect(older.ok && 'buckets' in older.value).toBe(false);
  });

  it.each([
    [
      'on another event',
      entry('{"v":[1],"c":[1]}', 'disk', '{"t":1,"read":1,"write":1}'),
      /^disk: latency buckets \("b"\) belong to requests entries only$/,
    ],
    ['not JSON', entry('{v:'), /^requests buckets: not JSON$/],
    ['fewer counts than values', entry('{"v":[1,2],"c":[1]}'), /^requests buckets c: expected as many counts as values$/],
    ['values out of order', entry('{"v":[5,5],"c":[1,1]}'), /^requests buckets v\[1\]: expected values in ascending order$/],
    ['a count of 0', entry('{"v":[5],"c":[0]}'), /^requests buckets c\[0\]: expected a count of at least 1$/],
    ['a fraction', entry('{"v":[1.5],"c":[1]}'), /^requests buckets v\[0\]: expected an integer/],
    [
      'a value past 32 bits',
      entry(`{"v":[${2 ** 32}],"c":[1]}`),
      /^requests buckets v\[0\]: expected an integer of at least 0 up to 4294967295$/,
    ],
    [
      'more than 4 096 buckets',
      entry(JSON.stringify({ v: Array.from({ length: 4097 }, (_, i) => i + 1), c: new Array(4097).fill(1) })),
      /^requests buckets v: expected a list of at most 4096 items$/,
    ],
  ])('refuse buckets %s with a one-line reason', (_name, fields, reason) => {
    const result = parseEntry(fields);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(reason);
  });
});
