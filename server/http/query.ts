import { parseDuration } from '../lib/duration.js';
import { TOPICS, type Topic } from '../protocol.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * `?topics=cpu,memory`: absent or empty means every topic the host has. An unknown name is an error
 * naming the valid ones; a known topic the host cannot sample (no sensors) is left out quietly.
 */
export function parseTopics(raw: string | undefined, available: readonly Topic[]): Parsed<Topic[]> {
  if (raw === undefined || raw.trim() === '') return { ok: true, value: [...available] };
  const names = raw
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(TOPICS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    const shown = unknown
      .slice(0, 5)
      .map((name) => JSON.stringify(name.slice(0, 40)))
      .join(', ');
    return { ok: false, error: `unknown topic ${shown}; valid topics: ${TOPICS.join(', ')}` };
  }
  return { ok: true, value: available.filter((topic) => names.includes(topic)) };
}

/**
 * `?since=`: ms since epoch (`1700000000000`), or a duration back from now (`15m`). Absent means the
 * whole history. Never later than now.
 */
export function parseSince(raw: string | undefined, now: number): Parsed<number> {
  if (raw === undefined || raw === '') return { ok: true, value: 0 };
  if (/^\d{12,15}$/.test(raw)) return { ok: true, value: Math.min(Number(raw), now) };
  const back = parseDuration(raw);
  if (back === null) return { ok: false, error: 'since must be ms since epoch or a duration such as 15m' };
  return { ok: true, value: now - back };
}
