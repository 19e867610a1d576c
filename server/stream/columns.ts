import type { Columns } from '../protocol.js';

/** Turns rows of one shape into one array per key: the keys are written once, not once per row. */
export function toColumns<S extends object>(rows: readonly S[]): Columns<S> {
  const columns = {} as Record<string, unknown[]>;
  const first = rows[0];
  if (first === undefined) return columns as Columns<S>;
  const keys = Object.keys(first);
  for (const key of keys) columns[key] = new Array(rows.length);
  rows.forEach((row, index) => {
    for (const key of keys) (columns[key] as unknown[])[index] = (row as Record<string, unknown>)[key];
  });
  return columns as Columns<S>;
}
