import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This module runs from server/ (sources, tests) or dist/server/ (the build); look upward from both.
const here = dirname(fileURLToPath(import.meta.url));

function firstExisting(candidates: string[]): string | null {
  return candidates.find((candidate) => existsSync(candidate)) ?? null;
}

/** The built page (dist/web), or null when `npm run build` has not run. */
export function findWebDir(): string | null {
  const index = firstExisting([join(here, '..', 'web', 'index.html'), join(here, '..', 'dist', 'web', 'index.html')]);
  return index ? dirname(index) : null;
}

export function readVersion(): string {
  const path = firstExisting([join(here, '..', 'package.json'), join(here, '..', '..', 'package.json')]);
  if (!path) return '0.0.0';
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
}
