import { parseLongDuration } from './tiers.js';

export type ParsedRange = { ok: true; from: number; to: number; points: number } | { ok: false; error: string };

export const DEFAULT_POINTS = 1000;
export const MAX_POINTS = 10_000;
/** The longest range one request may ask for: the 1h tier's longest retention. */
const MAX_RANGE_MS = 20 * 365 * 86_400_000;

/** `1764037000000` (ms since epoch), `now`, or `-24h` (a duration back from now). */
function parseInstant(raw: string, now: number, name: string): number | string {
  if (raw === 'now') return now;
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  if (raw.startsWith('-') && raw.length <= 20) {
    const back = parseLongDuration(raw.slice(1));
    if (back !== null) return now - back;
  }
  return `${name} must be ms since epoch, "now" or a duration back from now such as -24h`;
}

/** `?from=&to=&points=` of `/api/history`. `to` defaults to now, `points` to 1000. */
export function parseRange(query: { from?: string; to?: string; points?: string }, now: number): ParsedRange {
  if (query.from === undefined || query.from === '') return { ok: false, error: 'from is required with to or points' };
  const from = parseInstant(query.from, now, 'from');
  if (typeof from === 'string') return { ok: false, error: from };
  const to = query.to === undefined || query.to === '' ? now : parseInstant(query.to, now, 'to');
  if (typeof to === 'string') return { ok: false, error: to };
  if (from >= to) return { ok: false, error: `from (${from}) must be before to (${to})` };
  if (to - from > MAX_RANGE_MS) return { ok: false, error: 'the range may span at most 20 years' };
  let points = DEFAULT_POINTS;
  if (query.points !== undefined && query.points !== '') {
    if (!/^\d{1,6}$/.test(query.points) || Number(query.points) < 1 || Number(query.points) > MAX_POINTS) {
      return { ok: false, error: `points must be a whole number from 1 to ${MAX_POINTS}` };
    }
    points = Number(query.points);
  }
  return { ok: true, from, to, points };
}
