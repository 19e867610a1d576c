import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStaticFiles, pageWithRole, type StaticFile } from '../../server/http/static.js';

function page(html: string): StaticFile {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-static-'));
  writeFileSync(join(dir, 'index.html'), html);
  return loadStaticFiles(dir).get('/index.html') as StaticFile;
}

describe('the page names the server role', () => {
  const built = page('<head><meta name="pulseboard-role" content="" /><title>x</title></head>');

  it('writes host or hub into the meta tag, with an ETag of its own', () => {
    const host = pageWithRole(built, 'host');
    const hub = pageWithRole(built, 'hub');
    expect(host.body.toString()).toBe('<head><meta name="pulseboard-role" content="host" /><title>x</title></head>');
    expect(hub.body.toString()).toContain('<meta name="pulseboard-role" content="hub" />');
    expect(new Set([built.etag, host.etag, hub.etag]).size).toBe(3);
    expect(host.contentType).toBe(built.contentType);
  });

  it('serves a page without the tag as it is', () => {
    const plain = page('<head><title>x</title></head>');
    expect(pageWithRole(plain, 'hub')).toBe(plain);
  });
});
