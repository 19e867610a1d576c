import { parseRange } from '../history/range-params.js';
import type { HistoryResponse, Topic } from '../protocol.js';
import type { Board } from '../stream/board.js';
import { seriesSince } from '../stream/service.js';
import { parseSince } from './query.js';

/** What `/api/history` was asked, with every instant resolved against the request's clock. */
export type HistoryRequest = { kind: 'range'; from: number; to: number; points: number } | { kind: 'since'; since: number };

export type ParsedHistoryRequest = { ok: true; value: HistoryRequest } | { ok: false; error: string };

/**
 * `from`/`to`/`points` ask for a range in tiers (the board's durable history; a board without one answers
 * from the samples it holds); `since` alone keeps its first meaning: every sample since.
 */
export function parseHistoryRequest(query: Record<string, string>, now: number): ParsedHistoryRequest {
  if (query.from !== undefined || query.to !== undefined || query.points !== undefined) {
    if (query.since !== undefined) return { ok: false, error: 'since cannot be combined with from, to or points' };
    const range = parseRange(query, now);
    if (!range.ok) return range;
    return { ok: true, value: { kind: 'range', from: range.from, to: range.to, points: range.points } };
  }
  const since = parseSince(query.since, now);
  if (!since.ok) return since;
  return { ok: true, value: { kind: 'since', since: since.value } };
}

/** The answer's text for a cache key: two requests with the same key get the same answer from the same log. */
export function historyRequestKey(request: HistoryRequest): string {
  return request.kind === 'range' ? `range:${request.from}:${request.to}:${request.points}` : `since:${request.since}`;
}

/** The answer but the alerts, from the board's durable history where it keeps one, else from its log. */
export function historyBody(board: Board, topics: Topic[], request: HistoryRequest, now: number): Omit<HistoryResponse, 'alerts'> {
  const bootId = board.hub.bootId;
  const step = board.interval;
  if (request.kind === 'since') {
    const { since } = request;
    return { bootId, since, from: since, to: now, tier: 'raw', step, series: seriesSince(board.hub, topics, since, board.history?.older) };
  }
  const { from, to, points } = request;
  if (board.history) return { bootId, since: from, from, to, ...board.history.range({ topics, from, to, points }, now) };
  const series = seriesSince(board.hub, topics, from);
  for (const columns of Object.values(series) as Record<string, unknown[]>[]) {
    const times = columns.t as number[];
    const end = times.findIndex((t) => t > to);
    if (end !== -1) for (const key of Object.keys(columns)) columns[key] = (columns[key] as unknown[]).slice(0, end);
  }
  return { bootId, since: from, from, to, tier: 'raw', step, series };
}
