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
  if (Array.isArray(value)) return value.length > 0 && value.every((item) => typeof item === 'number');
  if (value !== null && typeof value === 'object') {
    const values = Object.values(value);
    return values.length > 0 && values.every(isNumericTree);
  }
  return false;
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
