import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FilePosition } from './file-follower.js';

/** In the data directory: where each followed access log was read to, so a restart reads no line twice. */
export const POSITIONS_FILE = 'access-log-positions.json';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isPosition(value: unknown): value is FilePosition {
  if (typeof value !== 'object' || value === null) return false;
  const { dev, ino, offset, before } = value as Record<string, unknown>;
  const count = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  return count(dev) && count(ino) && count(offset) && typeof before === 'string' && before.length <= 64 && BASE64.test(before);
}

/** The saved positions by path; a missing, unreadable or malformed file (or entry) is as no position: the log is read from its end. */
export function loadPositions(dataDir: string | null): Map<string, FilePosition> {
  const positions = new Map<string, FilePosition>();
  if (dataDir === null) return positions;
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(join(dataDir, POSITIONS_FILE), 'utf8'));
  } catch {
    return positions;
  }
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) return positions;
  for (const [path, position] of Object.entries(saved)) if (isPosition(position)) positions.set(path, position);
  return positions;
}

/** Written to a temporary name and renamed, so a crash leaves the old positions or the new ones, never half. */
export function savePositions(dataDir: string, positions: ReadonlyMap<string, FilePosition>): void {
  const path = join(dataDir, POSITIONS_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(Object.fromEntries(positions))}\n`);
  renameSync(`${path}.tmp`, path);
}
