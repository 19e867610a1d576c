import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This module runs from server/ (sources, tests) or dist/server/ (the build); look upward from both.
const here = dirname(fileURLToPath(import.meta.url));

function firstExisting(candidates: string[]): string | null {
  return candidates.find((candidate) => existsSync(candidate)) ?? null;
}

/** The built page (dist/web), or null when `npm run build` has not run. Never the sources in web/. */
export function findWebDir(): string | null {
  const built = basename(dirname(here)) === 'dist' ? join(here, '..', 'web') : join(here, '..', 'dist', 'web');
  return existsSync(join(built, 'index.html')) ? built : null;
}

export function readVersion(): string {
  const path = firstExisting([join(here, '..', 'package.json'), join(here, '..', '..', 'package.json')]);
  if (!path) return '0.0.0';
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
}
