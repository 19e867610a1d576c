const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** No duration is longer than this: longer text is refused before any parsing, whatever a client sends. */
const MAX_DURATION_LENGTH = 32;
/** Applied to trimmed text: one run of spaces can only sit between the number and its unit, so matching is linear. */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/** Parses `250`, `250ms`, `30s`, `15m`, `1h`, `1.5h` into milliseconds; a bare number is milliseconds. */
export function parseDuration(text: string): number | null {
  if (text.length > MAX_DURATION_LENGTH) return null;
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1));
  // Past 2^53 ms (285 000 years) the count is no longer exact: no duration.
  return Number.isSafeInteger(ms) ? ms : null;
}

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
