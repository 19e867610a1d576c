import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This module runs from server/lib/ (sources, tests) or dist/server/lib/ (the build): `serverDir` is
// server/ or dist/server/, and the repository (or installed package) is one or two levels above it.
const serverDir = dirname(dirname(fileURLToPath(import.meta.url)));

function firstExisting(candidates: string[]): string | null {
  return candidates.find((candidate) => existsSync(candidate)) ?? null;
}

/** The built page (dist/web), or null when `npm run build` has not run. Never the sources in web/. */
export function findWebDir(): string | null {
  const built = basename(dirname(serverDir)) === 'dist' ? join(serverDir, '..', 'web') : join(serverDir, '..', 'dist', 'web');
  return existsSync(join(built, 'index.html')) ? built : null;
}

export function readVersion(): string {
  const path = firstExisting([join(serverDir, '..', 'package.json'), join(serverDir, '..', '..', 'package.json')]);
  if (!path) return '0.0.0';
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
}
