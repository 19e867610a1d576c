import type { Block } from './block.js';
import { bucketsViewAt, summaryOf } from './latency-buckets.js';
import { leftOutField } from './persisted.js';
import { isSummed } from './rollup.js';

export type Side = 'value' | 'min' | 'max';

const sixDigits = (value: number) => Number(value.toPrecision(6));

interface Group {
  key: string;
  /** Path slots of the group, with the path's parts after the key (empty for a plain number). */
  members: { slot: number; parts: string[] }[];
}

function groupsOf(paths: readonly string[]): Group[] {
  const groups = new Map<string, Group>();
  paths.forEach((path, slot) => {
    const [key, ...parts] = path.split('.') as [string, ...string[]];
    let group = groups.get(key);
    if (!group) {
      group = { key, members: [] };
      groups.set(key, group);
    }
    group.members.push({ slot, parts });
  });
  return [...groups.values()];
}

/** One row's nested value (`cores`, `status`, `latency`) rebuilt from its paths; a numeric part is an array index. */
function nestedAt(
  members: Group['members'],
  columns: readonly Float64Array[],
  i: number,
  round: (slot: number, v: number) => number,
): unknown {
  let root: Record<string, unknown> | null = null;
  for (const { slot, parts } of members) {
    const value = (columns[slot] as Float64Array)[i] as number;
    if (Number.isNaN(value)) continue;
    if (root === null) root = /^\d+$/.test(parts[0] as string) ? ([] as unknown as Record<string, unknown>) : {};
    let node = root;
    for (let d = 0; d < parts.length - 1; d++) {
      const part = parts[d] as string;
      let child = node[part] as Record<string, unknown> | undefined;
      if (child === undefined) {
        child = /^\d+$/.test(parts[d + 1] as string) ? ([] as unknown as Record<string, unknown>) : {};
        node[part] = child;
      }
      node = child;
    }
    node[parts[parts.length - 1] as string] = round(slot, value);
  }
  return root;
}

/**
 * A coarse row that had requests but no latency buckets (rows of a fleet agent older than the buckets):
 * its percentiles could only be a mean of per-second percentiles, so its latency is null (unavailable),
 * never that mean.
 */
function withoutUnbucketedLatency(block: Block, latency: unknown[]): void {
  const countSlot = block.paths.indexOf('count');
  if (countSlot === -1) return;
  const counts = block.value[countSlot] as Float64Array;
  for (let i = 0; i < block.length; i++) {
    const hadRequests = (counts[i] as number) > 0;
    if (hadRequests && !(block.buckets && bucketsViewAt(block.buckets, i))) latency[i] = null;
  }
}

/**
 * A block as the columns of the topic's sample shape (`t`, `total`, `cores`, `latency`, ...): the samples
 * themselves for raw rows; for downsampled rows each bucket's mean (6 significant digits; counts and bytes
 * summed, request latency percentiles from the merged buckets), min or max. `latencyFromBuckets`
 * (coarse tiers): a row with requests but no buckets has its latency null.
 */
export function columnsOf(block: Block, side: Side, latencyFromBuckets = false): Record<string, unknown[]> {
  const downsampled = block.min !== null;
  const columns = side === 'min' && block.min ? block.min : side === 'max' && block.max ? block.max : block.value;
  const summed = block.paths.map((path) => isSummed(block.topic, path));
  const round =
    downsampled && side === 'value' ? (slot: number, v: number) => (summed[slot] ? v : sixDigits(v)) : (_slot: number, v: number) => v;
  const result: Record<string, unknown[]> = { t: Array.from(block.t) };
  for (const group of groupsOf(block.paths)) {
    const out = new Array(block.length);
    const only = group.members[0];
    if (group.members.length === 1 && only && only.parts.length === 0) {
      const values = columns[only.slot] as Float64Array;
      for (let i = 0; i < block.length; i++) {
        const v = values[i] as number;
        out[i] = Number.isNaN(v) ? null : round(only.slot, v);
      }
    } else {
      for (let i = 0; i < block.length; i++) out[i] = nestedAt(group.members, columns, i, round);
    }
    result[group.key] = out;
  }
  if (downsampled && side === 'value' && block.topic === 'requests' && block.buckets && result.latency) {
    const maxSlot = block.paths.indexOf('latency.max');
    const latency = result.latency as (Record<string, number> | null)[];
    const packed = block.buckets;
    latency.forEach((row, i) => {
      const buckets = bucketsViewAt(packed, i);
      // p50/p90/p99 of every request of the bucket; max stays the largest per-tick max (exact, not bucketed).
      if (buckets && row) Object.assign(row, summaryOf(buckets), { max: maxSlot === -1 ? 0 : (block.max?.[maxSlot]?.[i] ?? 0) });
    });
  }
  if (latencyFromBuckets && block.topic === 'requests' && result.latency) withoutUnbucketedLatency(block, result.latency);
  for (const [key, values] of block.others) result[key] = values.map((value) => value ?? null);
  const leftOut = leftOutField(block.topic);
  if (!downsampled && leftOut && !(leftOut in result)) result[leftOut] = new Array(block.length).fill([]);
  return result;
}
