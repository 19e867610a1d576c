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
