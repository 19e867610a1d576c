import type { AlertPayload, HelloPayload } from '../protocol.js';

/** A fleet host's name: what `?host=` and the Redis keys carry. */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** The Redis keys of a fleet. One stream per host holds its events; a hash holds what `hello` needs. */
export const HOSTS_KEY = 'pulseboard:hosts';
export const eventsKey = (name: string) => `pulseboard:events:${name}`;
export const infoKey = (name: string) => `pulseboard:host:${name}`;

/**
 * What an agent says about itself, stored as JSON in its hash's `info` field: its hello, and more. The
 * agent's own history (memory only) is left out; a hub that keeps the host's tiers adds their state.
 */
export interface AgentInfo extends Omit<HelloPayload, 't' | 'mode' | 'history'> {
  name: string;
  alerts: AlertPayload[];
  /** Most entries kept in the stream (MAXLEN): the agent's history as a count. */
  capacity: number;
}

/** A stream entry's fields: the event name and its JSON payload. */
export const EVENT_FIELD = 'e';
export const DATA_FIELD = 'd';
/** A `requests` entry's latency buckets of its tick (JSON `{"v":[µs...],"c":[counts...]}`), absent from agents before it existed. */
export const BUCKETS_FIELD = 'b';

export type StreamEntry = [id: string, fields: string[]];

/** Parses a stream id of an agent (`<boot>-<seq>`, both decimal); null for any other shape. */
export function parseStreamId(id: string): { boot: string; seq: number } | null {
  const match = /^(\d{1,16})-(\d{1,15})$/.exec(id);
  if (!match) return null;
  return { boot: match[1] as string, seq: Number(match[2]) };
}

/**
 * The event name and JSON text of an entry's fields, and its buckets' JSON when it has them, unchecked
 * (payloads.ts checks them); null when the event or its data is missing.
 */
export function entryEvent(fields: string[]): { event: string; json: string; buckets?: string } | null {
  let event: string | undefined;
  let json: string | undefined;
  let buckets: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === EVENT_FIELD) event = fields[i + 1];
    else if (fields[i] === DATA_FIELD) json = fields[i + 1];
    else if (fields[i] === BUCKETS_FIELD) buckets = fields[i + 1];
  }
  if (!event || !json) return null;
  return buckets === undefined ? { event, json } : { event, json, buckets };
}
