import type { Topic } from '../protocol.js';

/**
 * Lists the page shows only as of now (the route table, the interface list, the top processes and the top
 * containers) are not written to disk: every row would carry them, and history has no use for them. A row
 * read back has them empty, as every row but the newest of a backfill does.
 */
const NOT_PERSISTED: Partial<Record<Topic, string>> = { requests: 'routes', network: 'interfaces', processes: 'top', containers: 'top' };

/** The sample as written to disk: the same object when nothing is left out. */
export function persistedSample(topic: Topic, sample: { t: number } & object): { t: number } & object {
  const field = NOT_PERSISTED[topic];
  if (!field || !(field in sample)) return sample;
  const { [field]: _left, ...rest } = sample as Record<string, unknown>;
  return rest as { t: number } & object;
}

export interface SampleJson {
  /** The persisted sample's JSON: the journal's `"sample"`. */
  persisted: string;
  /** The whole sample's JSON: the event's data on the wire. */
  wire: string;
}

/**
 * The sample's JSON on disk and on the wire from one `JSON.stringify`: the wire's is the persisted one with
 * the left-out list added as its last key (the same object, its keys in another order).
 */
export function sampleJson(topic: Topic, sample: { t: number } & object): SampleJson {
  const field = NOT_PERSISTED[topic];
  const list = field === undefined ? undefined : (sample as Record<string, unknown>)[field];
  const persisted = JSON.stringify(persistedSample(topic, sample));
  if (list === undefined) return { persisted, wire: persisted };
  return { persisted, wire: `${persisted.slice(0, -1)},"${field}":${JSON.stringify(list)}}` };
}

/** A sample read from disk with its left-out list back as an empty one, so it has the protocol's shape. */
export function restoredSample(topic: Topic, sample: { t: number } & object): { t: number } & object {
  const field = NOT_PERSISTED[topic];
  if (field && !(field in sample)) (sample as Record<string, unknown>)[field] = [];
  return sample;
}

/** The left-out list's key of a topic, if it has one. */
export function leftOutField(topic: Topic): string | undefined {
  return NOT_PERSISTED[topic];
}
