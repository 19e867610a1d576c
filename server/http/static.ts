import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
  /** Vite puts a content hash in asset names, so those may be cached for good. */
  immutable: boolean;
}

const etagOf = (body: Buffer) => `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Reads the built page into memory once. Requests are answered only by exact match against this map,
 * so no request path can reach a file outside the folder.
 */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const body = readFileSync(path);
        const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
        files.set(urlPath, {
          body,
          contentType: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
          etag: etagOf(body),
          immutable: urlPath.startsWith('/assets/'),
        });
      }
    }
  };
  walk(dir);
  return files;
}

/** What the server is, for the page: one host's board, or a fleet hub (whose page shows the fleet overview). */
export type PageRole = 'host' | 'hub';

const ROLE_META = /<meta name="pulseboard-role" content="[^"]*"\s*\/?>/;

/**
 * The page with the server's role written into its `pulseboard-role` meta tag, so that it opens its stream
 * (or the fleet overview) at once instead of asking `/api/fleet` first. A page without the tag is served as it is.
 */
export function pageWithRole(page: StaticFile, role: PageRole): StaticFile {
  const html = page.body.toString('utf8');
  if (!ROLE_META.test(html)) return page;
  const body = Buffer.from(html.replace(ROLE_META, `<meta name="pulseboard-role" content="${role}" />`));
  return { ...page, body, etag: etagOf(body) };
}
