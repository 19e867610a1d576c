import type { Block } from './block.js';
import { summaryAt } from './latency-buckets.js';
import { leftOutField } from './persisted.js';
import { isSummed } from './rollup.js';
import { toSixDigits } from './six-digits.js';

export type Side = 'value' | 'min' | 'max';

interface Member {
  slot: number;
  /** The path's parts after the group's key (empty for a plain number); array indices as numbers. */
  keys: (string | number)[];
  /** Whether the container at each depth is an array (depth 0: the row's value itself). */
  arrayAt: boolean[];
}

interface Group {
  key: string;
  members: Member[];
}

const isIndex = (part: string) => /^\d+$/.test(part);

function groupsOf(paths: readonly string[]): Group[] {
  const groups = new Map<string, Group>();
  paths.forEach((path, slot) => {
    const [key, ...parts] = path.split('.') as [string, ...string[]];
    let group = groups.get(key);
    if (!group) {
      group = { key, members: [] };
      groups.set(key, group);
    }
    group.members.push({ slot, keys: parts.map((part) => (isIndex(part) ? Number(part) : part)), arrayAt: parts.map(isIndex) });
  });
  return [...groups.values()];
}

/** One row's nested value (`cores`, `status`, `latency`) rebuilt from its paths; a numeric part is an array index. */
function nestedAt(
  members: readonly Member[],
  columns: readonly Float64Array[],
  i: number,
  round: (slot: number, v: number) => number,
): unknown {
  type Node = Record<string | number, unknown>;
  let root: Node | null = null;
  for (const { slot, keys, arrayAt } of members) {
    const value = (columns[slot] as Float64Array)[i] as number;
    if (Number.isNaN(value)) continue;
    if (root === null) root = (arrayAt[0] ? [] : {}) as Node;
    let node: Node = root;
    const last = keys.length - 1;
    for (let d = 0; d < last; d++) {
      const part = keys[d] as string | number;
      let child = node[part] as Node | undefined;
      if (child === undefined) {
        child = (arrayAt[d + 1] ? [] : {}) as Node;
        node[part] = child;
      }
      node = child;
    }
    node[keys[last] as string | number] = round(slot, value);
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
    if (hadRequests && !(block.buckets && (block.buckets.offsets[i] as number) < (block.buckets.offsets[i + 1] as number)))
      latency[i] = null;
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
    downsampled && side === 'value' ? (slot: number, v: number) => (summed[slot] ? v : toSixDigits(v)) : (_slot: number, v: number) => v;
  const result: Record<string, unknown[]> = { t: Array.from(block.t) };
  for (const group of groupsOf(block.paths)) {
    const out = new Array(block.length);
    const only = group.members[0];
    if (group.members.length === 1 && only && only.keys.length === 0) {
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
    for (let i = 0; i < latency.length; i++) {
      const row = latency[i];
      const summary = row ? summaryAt(packed, i) : null;
      if (!row || !summary) continue;
      // p50/p90/p99 of every request of the bucket; max stays the largest per-tick max (exact, not bucketed).
      row.p50 = summary.p50;
      row.p90 = summary.p90;
      row.p99 = summary.p99;
      row.max = maxSlot === -1 ? 0 : (block.max?.[maxSlot]?.[i] ?? 0);
    }
  }
  if (latencyFromBuckets && block.topic === 'requests' && result.latency) withoutUnbucketedLatency(block, result.latency);
  for (const [key, values] of block.others) result[key] = values.map((value) => value ?? null);
  const leftOut = leftOutField(block.topic);
  if (!downsampled && leftOut && !(leftOut in result)) result[leftOut] = new Array(block.length).fill([]);
  return result;
}
