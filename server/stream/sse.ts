/**
 * The SSE wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * pure functions that turn events into bytes and parse `Last-Event-ID`.
 */

const LINE_BREAK = /\r\n|\r|\n/;

/** Event names and ids end at a line break on the wire, so one inside them would forge fields. */
function assertSingleLine(field: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new Error(`SSE ${field} must not contain CR, LF or NUL`);
}

/** Frames one event. Multi-line data becomes several `data:` lines, which the client joins with `\n`. */
export function frameEvent(event: string, data: string, id?: string): string {
  assertSingleLine('event name', event);
  let frame = '';
  if (id !== undefined) {
    assertSingleLine('id', id);
    frame += `id: ${id}\n`;
  }
  frame += `event: ${event}\n`;
  for (const line of data.split(LINE_BREAK)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/**
 * JSON has no raw line break (JSON.stringify escapes them in strings): one `data:` line, no split. `json` is
 * the payload's JSON.stringify when the caller has it already.
 */
export function encodeEvent(event: string, payload: unknown, id?: string, json = JSON.stringify(payload)): Buffer {
  return Buffer.from(frameJsonEvent(event, id, json));
}

/** `encodeEvent`'s frame as text: the hub keeps it so until some subscriber needs the bytes. */
export function frameJsonEvent(event: string, id: string | undefined, json: string): string {
  assertSingleLine('event name', event);
  if (id !== undefined) assertSingleLine('id', id);
  const head = id === undefined ? '' : `id: ${id}\n`;
  return `${head}event: ${event}\ndata: ${json}\n\n`;
}

export function frameRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** A comment line: ignored by EventSource, but it keeps proxies and NAT tables from closing the stream. */
export function frameComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

export const HEARTBEAT = Buffer.from(frameComment('ping'));

export interface EventId {
  bootId: string;
  seq: number;
}

const BOOT_ID = /^[a-z0-9]{4,32}$/;
const EVENT_ID = /^([a-z0-9]{4,32})-(\d{1,15})$/;

export function isBootId(value: string): boolean {
  return BOOT_ID.test(value);
}

export function formatEventId(bootId: string, seq: number): string {
  return `${bootId}-${seq}`;
}

/** Parses `<bootId>-<seq>`. Anything else (empty, too long, odd characters) is null: treated as absent. */
export function parseEventId(raw: string | null | undefined): EventId | null {
  if (typeof raw !== 'string' || raw.length > 64) return null;
  const match = EVENT_ID.exec(raw.trim());
  if (!match) return null;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq)) return null;
  return { bootId: match[1] as string, seq };
}
