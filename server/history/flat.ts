/**
 * A sample as a flat record: every number reachable through objects and all-number arrays gets a dotted
 * path (`total`, `cores.1`, `status.2xx`, `latency.p99`); anything else (strings, lists of objects such as
 * `mounts`) stays a JSON value under its top-level key. Tiers roll up and store the numeric paths column
 * by column; `unflatten` rebuilds the sample's shape.
 */
export interface FlatRow {
  numbers: Map<string, number>;
  others: Map<string, unknown>;
}

export function flatten(sample: object): FlatRow {
  const numbers = new Map<string, number>();
  const others = new Map<string, unknown>();
  for (const [key, value] of Object.entries(sample)) {
    if (key === 't') continue;
    if (isNumericTree(value)) addNumbers(numbers, key, value);
    else others.set(key, value);
  }
  return { numbers, others };
}

/** True for a number, an array of numbers, or an object whose values are all numeric trees (non-empty). */
function isNumericTree(value: unknown): boolean {
  if (typeof value === 'number') return true;
  if (value === null || typeof value !== 'object') return false;
  // Loops rather than Object.values() and every(): this runs on every sample, and allocates nothing so.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'number') return false;
    return value.length > 0;
  }
  let any = false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (!isNumericTree((value as Record<string, unknown>)[key])) return false;
    any = true;
  }
  return any;
}

/**
 * The dotted paths of a topic's numbers, each made once and kept: walking a row with them builds no string
 * and no map (`flatten` builds both for every row: measured at ~30 % of what an idle server allocated).
 */
export class FlatPaths {
  private readonly keys = new Map<string, FlatPaths>();
  private readonly items: FlatPaths[] = [];

  constructor(readonly path = '') {}

  /** What `flatten` gives, handed over one value at a time in the same order: `number` per numeric path, `other` per other top-level key. */
  walk(sample: object, number: (path: string, value: number) => void, other: (key: string, value: unknown) => void): void {
    for (const key in sample) {
      if (key === 't' || !Object.hasOwn(sample, key)) continue;
      const value = (sample as Record<string, unknown>)[key];
      if (isNumericTree(value)) this.key(key).walkNumbers(value, number);
      else other(key, value);
    }
  }

  private walkNumbers(value: unknown, number: (path: string, value: number) => void): void {
    if (typeof value === 'number') number(this.path, value);
    else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) this.item(i).walkNumbers(value[i], number);
    else
      for (const key in value as object)
        if (Object.hasOwn(value as object, key)) this.key(key).walkNumbers((value as Record<string, unknown>)[key], number);
  }

  private key(key: string): FlatPaths {
    let child = this.keys.get(key);
    if (!child) {
      child = new FlatPaths(this.path === '' ? key : `${this.path}.${key}`);
      this.keys.set(key, child);
    }
    return child;
  }

  private item(index: number): FlatPaths {
    let child = this.items[index];
    if (!child) {
      child = new FlatPaths(`${this.path}.${index}`);
      this.items[index] = child;
    }
    return child;
  }
}

function addNumbers(numbers: Map<string, number>, path: string, value: unknown): void {
  if (typeof value === 'number') {
    numbers.set(path, value);
    return;
  }
  for (const [key, item] of Object.entries(value as object)) addNumbers(numbers, `${path}.${key}`, item);
}

/** Rebuilds a sample from its time, numeric paths and other values. A numeric path segment is an array index. */
export function unflatten(
  t: number,
  numbers: Iterable<[string, number]>,
  others: Iterable<[string, unknown]> = [],
): Record<string, unknown> {
  const row: Record<string, unknown> = { t };
  for (const [path, value] of numbers) {
    const parts = path.split('.');
    let node: Record<string, unknown> = row;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] as string;
      let child = node[part] as Record<string, unknown> | undefined;
      if (child === undefined) {
        child = /^\d+$/.test(parts[i + 1] as string) ? ([] as unknown as Record<string, unknown>) : {};
        node[part] = child;
      }
      node = child;
    }
    node[parts[parts.length - 1] as string] = value;
  }
  for (const [key, value] of others) row[key] = value;
  return row;
}
