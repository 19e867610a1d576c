import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..', '..');

export interface Size {
  raw: number;
  gzip: number;
}

export interface BundleResult {
  js: Size;
  css: Size;
  /** express-status-monitor's page as served: HTML with its script and stylesheet inline. */
  peerPage: Size;
  command: string;
}

const sizeOf = (bytes: Buffer): Size => ({ raw: bytes.length, gzip: gzipSync(bytes).length });

function sumOf(dir: string, extension: string): Size {
  const total = { raw: 0, gzip: 0 };
  for (const name of readdirSync(dir).filter((file) => file.endsWith(extension))) {
    const size = sizeOf(readFileSync(join(dir, name)));
    total.raw += size.raw;
    total.gzip += size.gzip;
  }
  return total;
}

/**
 * The built page's JS and CSS (dist/web/assets), gzip at zlib's default level as a server would send them.
 * The peer's page inlines its own script and styles, and loads Chart.js 2.2.2 and socket.io 1.4.5 from a CDN
 * (not counted: unreachable here).
 */
export function benchBundle(): BundleResult {
  const assets = join(ROOT, 'dist/web/assets');
  const peerDir = join(dirname(createRequire(import.meta.url).resolve('express-status-monitor')), 'src/public');
  const peerPage = Buffer.concat([
    readFileSync(join(peerDir, 'index.html')),
    readFileSync(join(peerDir, 'javascripts/app.js')),
    readFileSync(join(peerDir, 'stylesheets/default.css')),
  ]);
  return {
    js: sumOf(assets, '.js'),
    css: sumOf(assets, '.css'),
    peerPage: sizeOf(peerPage),
    command:
      'gzip (zlib default level) of dist/web/assets/*.js and *.css after npm run build; peer: express-status-monitor src/public index.html + app.js + default.css',
  };
}
