import type { HttpBindings } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';

/** Request headers in all, per request: Node answers 431 past this (HTTP/1.1 and HTTP/2). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** No route takes a body; this leaves room for a client that sends a small one anyway. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Refuses request bodies over MAX_BODY_BYTES (or of unknown length) with 413 and closes the connection, so
 * the server never reads or drains them. Reads the Node request's headers: no Web Headers object per request.
 */
export function boundedBodies(): MiddlewareHandler<{ Bindings: Partial<HttpBindings> }> {
  return async (c, next) => {
    const headers = c.env?.incoming?.headers;
    const length = headers ? headers['content-length'] : c.req.header('content-length');
    const chunked = headers ? headers['transfer-encoding'] !== undefined : c.req.header('transfer-encoding') !== undefined;
    if (chunked || (length !== undefined && !(Number(length) <= MAX_BODY_BYTES))) {
      return c.json({ error: `request bodies are limited to ${MAX_BODY_BYTES} bytes` }, 413, { Connection: 'close' });
    }
    return next();
  };
}
