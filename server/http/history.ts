import { parseRange } from '../history/range-params.js';
import type { HistoryResponse, Topic } from '../protocol.js';
import type { Board } from '../stream/board.js';
import { seriesSince } from '../stream/service.js';
import { parseSince } from './query.js';

export type HistoryAnswer = { ok: true; body: Omit<HistoryResponse, 'alerts'> } | { ok: false; error: string };

/**
 * `/api/history`: `from`/`to`/`points` ask for a range in tiers (the board's durable history; a board
 * without one answers from the samples it holds); `since` alone keeps its first meaning: every sample since.
 */
export function historyAnswer(board: Board, topics: Topic[], query: Record<string, string>, now: number): HistoryAnswer {
  const bootId = board.hub.bootId;
  if (query.from !== undefined || query.to !== undefined || query.points !== undefined) {
    if (query.since !== undefined) return { ok: false, error: 'since cannot be combined with from, to or points' };
    const range = parseRange(query, now);
    if (!range.ok) return range;
    const { from, to } = range;
    if (board.history) return { ok: true, body: { bootId, since: from, from, to, ...board.history.range({ topics, ...range }, now) } };
    const series = seriesSince(board.hub, topics, from);
    for (const columns of Object.values(series) as Record<string, unknown[]>[]) {
      const times = columns.t as number[];
      const end = times.findIndex((t) => t > to);
      if (end !== -1) for (const key of Object.keys(columns)) columns[key] = (columns[key] as unknown[]).slice(0, end);
    }
    return { ok: true, body: { bootId, since: from, from, to, tier: 'raw', step: board.hello([], 'fresh').interval, series } };
  }
  const since = parseSince(query.since, now);
  if (!since.ok) return since;
  return {
    ok: true,
    body: {
      bootId,
      since: since.value,
      from: since.value,
      to: now,
      tier: 'raw',
      step: board.hello([], 'fresh').interval,
      series: seriesSince(board.hub, topics, since.value, board.history?.older),
    },
  };
}
