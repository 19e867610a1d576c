import type { Topic } from '../protocol.js';
import type { Side } from './block-columns.js';

/** A topic's answer columns over one unit of sealed rows: each bucket's mean, min and max, as `columnsOf` gives them. */
export type UnitColumns = Record<Side, Record<string, unknown[]>>;

/**
 * Answer columns kept for the next query while queries keep coming (the store lets them go when memory
 * settles after them, and whenever its files change). On a 30-day store the page's windows keep (estimated
 * as below) 3.4 MB for 24 h, 5.1 MB for 7 d, 3.6 MB for 30 d: the window shown and the one before fit.
 */
export const UNIT_CACHE_BUDGET_BYTES = 8 * 2 ** 20;

interface Entry {
  /** null: the topic has no rows in the unit. */
  columns: UnitColumns | null;
  bytes: number;
}

/** Rough bytes a row's value holds on V8's heap: ~24 per property or array slot (a pointer and a boxed number), and what they hold. */
function roughBytes(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let bytes = 32;
  for (const item of Object.values(value)) bytes += 24 + roughBytes(item);
  return bytes;
}

/**
 * Rough bytes of a unit's columns: 24 per row of each column (a pointer and a boxed number: columns with
 * nulls are not packed doubles), and per row of objects (`cores`, `latency`) its first one's size. On the
 * 30-day demo store the page's three long windows kept 10.1 MB of heap (freed when let go), 12.1 MB estimated.
 */
export function unitBytes(columns: UnitColumns | null): number {
  if (columns === null) return 8;
  let bytes = 0;
  for (const side of [columns.value, columns.min, columns.max]) {
    for (const column of Object.values(side)) {
      const sample = column.find((value) => value !== null && typeof value === 'object');
      bytes += 16 + column.length * (24 + (sample === undefined ? 0 : roughBytes(sample)));
    }
  }
  return bytes;
}

/**
 * Answer columns of sealed units (a whole number of a range's buckets, all of them in sealed hours), by
 * tier, step, topic and the unit's start: sealed rows never change, so a unit merged and made into columns
 * once answers every later query that covers it, and a query merges only its edges and the open hour.
 * Least recently used first out, within one budget of bytes.
 */
export class UnitCache {
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(readonly budgetBytes = UNIT_CACHE_BUDGET_BYTES) {}

  static key(tier: string, step: number, topic: Topic, start: number): string {
    return `${tier} ${step} ${topic} ${start}`;
  }

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The unit's columns (null: no rows), or undefined when not kept; marks it as the most recently used. */
  get(key: string): UnitColumns | null | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.columns;
  }

  set(key: string, columns: UnitColumns | null): void {
    const known = this.entries.get(key);
    if (known) {
      this.entries.delete(key);
      this.held -= known.bytes;
    }
    const bytes = unitBytes(columns);
    this.entries.set(key, { columns, bytes });
    this.held += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.budgetBytes) break;
      this.entries.delete(oldest);
      this.held -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }
}
