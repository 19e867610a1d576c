import type { Tier } from './tiers.js';

/**
 * Where each tier's rows live under the data directory, one file per period (UTC):
 *   raw/2026-11-25T14.ndjson.gz   one hour of samples (gzip NDJSON, segment.ts)
 *   1m/2026-11-25.cols            one day of 1-minute rows (binary columns, column-file.ts)
 *   10m/2026-11-25.cols           one day of 10-minute rows
 *   1h/2026-11.cols               one month of 1-hour rows
 */
export const HOUR_MS = 3_600_000;
export const SEGMENT_SUFFIX = '.ndjson.gz';
export const COLUMN_SUFFIX = '.cols';

export function suffixOf(tier: Tier): string {
  return tier === 'raw' ? SEGMENT_SUFFIX : COLUMN_SUFFIX;
}
export const MARKER_FILE = 'pulseboard-history.json';
export const LOCK_FILE = 'pulseboard.lock';
export const JOURNAL_FILE = 'journal.ndjson';
/** Every alert change, silence and start, one JSON line each (alert-log.ts). */
export const ALERTS_FILE = 'alerts.ndjson';
/** Version 2: the 1m and 1h tiers as binary columns (version 1 had them as gzip NDJSON). */
export const FORMAT = { format: 'pulseboard-history', version: 2 } as const;

export interface Period {
  name: string;
  from: number;
  to: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function periodOf(tier: Tier, t: number): Period {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (tier === 'raw') {
    const from = Date.UTC(y, m, d.getUTCDate(), d.getUTCHours());
    return { name: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`, from, to: from + HOUR_MS };
  }
  if (tier === '1m' || tier === '10m') {
    const from = Date.UTC(y, m, d.getUTCDate());
    return { name: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}`, from, to: from + 24 * HOUR_MS };
  }
  return { name: `${y}-${pad(m + 1)}`, from: Date.UTC(y, m, 1), to: Date.UTC(y, m + 1, 1) };
}

const NAME: Record<Tier, RegExp> = {
  raw: /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/,
  '1m': /^(\d{4})-(\d{2})-(\d{2})$/,
  '10m': /^(\d{4})-(\d{2})-(\d{2})$/,
  '1h': /^(\d{4})-(\d{2})$/,
};

/** The period a segment file's name stands for, or null for a file that is not a segment of that tier. */
export function periodOfName(tier: Tier, fileName: string): Period | null {
  const suffix = suffixOf(tier);
  if (!fileName.endsWith(suffix)) return null;
  const name = fileName.slice(0, -suffix.length);
  const match = NAME[tier].exec(name);
  if (!match) return null;
  const [, y, mo, d, h] = match.map(Number) as number[];
  const period = periodOf(tier, Date.UTC(y as number, (mo as number) - 1, d ?? 1, h ?? 0));
  return period.name === name ? period : null;
}
