import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockOfRows } from '../../server/history/block.js';
import { flatten } from '../../server/history/flat.js';
import { TOPICS, type Topic } from '../../server/protocol.js';
import { PAYLOADS } from '../helpers/payloads.js';

/** The open hour's columns as `flatten` defines them: each path and key in order of first appearance, NaN / undefined where a row lacks it. */
function flattenedColumns(samples: readonly object[]) {
  const value = new Map<string, number[]>();
  const others = new Map<string, unknown[]>();
  samples.forEach((sample, row) => {
    const flat = flatten(sample);
    for (const [path, number] of flat.numbers) {
      if (!value.has(path)) value.set(path, new Array(samples.length).fill(Number.NaN));
      (value.get(path) as number[])[row] = number;
    }
    for (const [key, other] of flat.others) {
      if (!others.has(key)) others.set(key, new Array(samples.length).fill(undefined));
      (others.get(key) as unknown[])[row] = other;
    }
  });
  return { paths: [...value.keys()], value: [...value.values()], others };
}

describe("a row's paths walked once per path (FlatPaths): the same columns as flatten gives", () => {
  for (const topic of TOPICS) {
    it(topic, () => {
      const sample = PAYLOADS[topic as Topic] as fc.Arbitrary<{ t: number } & object>;
      fc.assert(
        fc.property(fc.array(sample, { minLength: 1, maxLength: 6 }), (samples) => {
          const block = blockOfRows(
            topic,
            samples.map((s) => ({ sample: s as never })),
          );
          const expected = flattenedColumns(samples);
          expect(block.paths).toEqual(expected.paths);
          expect(block.value.map((column) => Array.from(column))).toEqual(expected.value);
          expect(block.others).toEqual(expected.others);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('a path a row lacks is NaN in it, a list of objects is kept whole, numbers under nested objects get dotted paths', () => {
    const block = blockOfRows('cpu', [
      { sample: { t: 1, total: 5, cores: [1, 2], load: [0.5, 0.4, 0.3] } as never },
      { sample: { t: 2, total: 6, cores: [3, 4, 7], mounts: [{ a: 1 }], nested: { a: { b: 2 } } } as never },
    ]);
    expect(block.paths).toEqual(['total', 'cores.0', 'cores.1', 'load.0', 'load.1', 'load.2', 'cores.2', 'nested.a.b']);
    expect(Array.from(block.value[6] as Float64Array)).toEqual([Number.NaN, 7]);
    expect(block.others.get('mounts')).toEqual([undefined, [{ a: 1 }]]);
  });
});
