import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { journalLine } from '../../server/history/journal.js';
import { persistedSample, sampleJson } from '../../server/history/persisted.js';
import { TOPICS, type Topic } from '../../server/protocol.js';
import { PAYLOADS } from '../helpers/payloads.js';

describe('one JSON.stringify per sample, for the wire and the journal', () => {
  for (const topic of TOPICS) {
    it(`${topic}: the wire's JSON is the whole sample, the journal's line the same bytes as stringifying it whole`, () => {
      fc.assert(
        fc.property(PAYLOADS[topic as Topic] as fc.Arbitrary<{ t: number } & object>, (sample) => {
          const json = sampleJson(topic, sample);
          expect(JSON.parse(json.wire)).toEqual(JSON.parse(JSON.stringify(sample)));
          const persisted = persistedSample(topic, sample);
          expect(json.persisted).toBe(JSON.stringify(persisted));
          const buckets = { v: [1, 5], c: [2, 3] };
          expect(journalLine(topic, { sample: persisted }, json.persisted)).toBe(`${JSON.stringify({ topic, sample: persisted })}\n`);
          expect(journalLine(topic, { sample: persisted, buckets }, json.persisted)).toBe(
            `${JSON.stringify({ topic, sample: persisted, buckets })}\n`,
          );
        }),
        { numRuns: 50 },
      );
    });
  }
});
