import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptsGzip, HistoryAnswers } from '../../server/http/history.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('history answers', () => {
  it('builds an answer once for every request that asks the same at the same time, and encodes it once', async () => {
    const answers = new HistoryAnswers();
    let calls = 0;
    const build = () => ({ n: ++calls, series: { cpu: { t: [1, 2, 3] } } });
    const all = await Promise.all(Array.from({ length: 200 }, () => answers.answer('host|boot|42|cpu|0|true', build, true)));
    expect(answers.builds).toBe(1);
    expect(calls).toBe(1);
    expect(new Set(all).size).toBe(1);
    expect(JSON.parse(gunzipSync(all[0] as Uint8Array).toString())).toEqual({ n: 1, series: { cpu: { t: [1, 2, 3] } } });
    // The same bytes again later, until the key (the log position, the query) changes.
    expect(await answers.answer('host|boot|42|cpu|0|true', build, true)).toBe(all[0]);
    expect(text((await answers.answer('host|boot|43|cpu|0|false', build, false)) as Uint8Array)).toBe(
      '{"n":2,"series":{"cpu":{"t":[1,2,3]}}}',
    );
  });

  it('runs one build at a time, each in its own turn of the event loop, and refuses past the waiting bound', async () => {
    const answers = new HistoryAnswers({ waiting: 4, kept: 8, keptBytes: 2 ** 20 });
    const events: string[] = [];
    const started = Array.from({ length: 8 }, (_, i) =>
      answers.answer(
        `key-${i}`,
        () => {
          events.push(`build ${i}`);
          setImmediate(() => events.push(`after build ${i}`));
          return { i };
        },
        false,
      ),
    );
    // One runs and four wait: the other three are refused at once.
    expect(started.filter((answer) => answer === null)).toHaveLength(3);
    await Promise.all(started.filter((answer) => answer !== null));
    expect(events.filter((event) => event.startsWith('build'))).toEqual(['build 0', 'build 1', 'build 2', 'build 3', 'build 4']);
    // Work queued by one build ran before the next build began.
    for (let i = 0; i < 4; i++) expect(events.indexOf(`after build ${i}`)).toBeLessThan(events.indexOf(`build ${i + 1}`));
    expect(answers.answer('key-after', () => ({}), false)).not.toBeNull();
  });

  it('keeps answers within a byte budget: the oldest go first, and one larger than the budget alone is not kept', async () => {
    const answers = new HistoryAnswers({ waiting: 4, kept: 8, keptBytes: 100 });
    const forty = (tag: string) => () => ({ tag, pad: 'x'.repeat(40 - 19 - tag.length) });
    const ask = (key: string, build: () => unknown) => answers.answer(key, build, false) as Promise<Uint8Array>;
    for (const key of ['a', 'b']) expect((await ask(key, forty(key))).length).toBe(40);
    expect(answers.bytesKept).toBe(80);
    await ask('c', forty('c'));
    // 120 bytes: the oldest (a) went.
    expect(answers.bytesKept).toBe(80);
    const builds = answers.builds;
    await ask('b', forty('b'));
    await ask('c', forty('c'));
    expect(answers.builds).toBe(builds);
    await ask('a', forty('a'));
    expect(answers.builds).toBe(builds + 1);
    // b was the oldest when a came back; a 150-byte answer is sent but not kept, and sends none of the others away.
    expect(answers.bytesKept).toBe(80);
    expect((await ask('big', () => ({ pad: 'x'.repeat(140) }))).length).toBe(150);
    expect(answers.bytesKept).toBe(80);
    await ask('big', () => ({ pad: 'x'.repeat(140) }));
    expect(answers.builds).toBe(builds + 3);
    await ask('c', forty('c'));
    expect(answers.builds).toBe(builds + 3);
  });

  it('keeps a failed build for no one: the error reaches its requests, the next request builds again', async () => {
    const answers = new HistoryAnswers();
    await expect(
      answers.answer(
        'k',
        () => {
          throw new Error('boom');
        },
        false,
      ),
    ).rejects.toThrow('boom');
    expect(text((await answers.answer('k', () => ({ ok: true }), false)) as Uint8Array)).toBe('{"ok":true}');
  });

  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8', true],
    ['gzip;q=0', false],
    ['identity', false],
    ['*', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['deflate, *;q=0.1', true],
    ['GZIP', true],
  ])('reads Accept-Encoding %j as gzip: %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
