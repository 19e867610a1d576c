import { request } from 'node:http';

/** One parsed SSE field group: an event, a retry, or a comment. */
export interface Frame {
  kind: 'event' | 'retry' | 'comment';
  event?: string;
  id?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

export interface SseConnection {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  frames: Frame[];
  /** Resolves when `predicate` holds for the frames received so far (checked on every frame). */
  until(predicate: (frames: Frame[]) => boolean, timeoutMs?: number): Promise<Frame[]>;
  /** Events only, with parsed JSON data. */
  events(): { event: string; id?: string; data: any }[];
  close(): void;
  closed: Promise<void>;
}

/**
 * A byte-level SSE reader over node:http, for what EventSource hides: `retry:`, comments, the exact
 * order of frames, headers. The `eventsource` package is used where a real browser-like client matters.
 */
export function openSse(
  url: string,
  headers: Record<string, string> = {},
  options: { localAddress?: string } = {},
): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: 'text/event-stream', ...headers }, ...options }, (res) => {
      const frames: Frame[] = [];
      const waiters: (() => void)[] = [];
      let buffer = '';
      let resolveClosed: () => void = () => {};
      const closed = new Promise<void>((r) => (resolveClosed = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          frames.push(parseFrame(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
        for (const waiter of [...waiters]) waiter();
      });
      res.on('close', () => {
        resolveClosed();
        for (const waiter of [...waiters]) waiter();
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        closed,
        until(predicate, timeoutMs = 10_000) {
          return new Promise((done, fail) => {
            const check = () => {
              if (predicate(frames)) {
                clearTimeout(timer);
                waiters.splice(waiters.indexOf(check), 1);
                done(frames);
              }
            };
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(check), 1);
              fail(new Error(`timed out; frames so far: ${JSON.stringify(frames.slice(-5)).slice(0, 800)}`));
            }, timeoutMs);
            waiters.push(check);
            check();
          });
        },
        events() {
          return frames
            .filter((frame) => frame.kind === 'event')
            .map((frame) => ({ event: frame.event ?? 'message', id: frame.id, data: JSON.parse(frame.data ?? 'null') }));
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Splits SSE text into frames (each ends with a blank line); a trailing partial frame is left out. */
export function parseFrames(text: string): Frame[] {
  const parts = text.split('\n\n');
  parts.pop();
  return parts.map(parseFrame);
}

function parseFrame(text: string): Frame {
  const frame: Frame = { kind: 'event' };
  const data: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) return { kind: 'comment', comment: line.slice(1).trim() };
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'retry') return { kind: 'retry', retry: Number(value) };
    if (field === 'event') frame.event = value;
    else if (field === 'id') frame.id = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length > 0) frame.data = data.join('\n');
  return frame;
}

export const seqOf = (id: string | undefined): number => Number(id?.split('-')[1]);
