import { formatDuration, parseDuration } from '../lib/duration.js';

export const TIERS = ['raw', '1m', '10m', '1h'] as const;
export type Tier = (typeof TIERS)[number];
export type CoarseTier = Exclude<Tier, 'raw'>;

/** Bucket length of each coarse tier, ms. The raw tier's step is the sampling interval. */
export const TIER_STEP_MS: Record<CoarseTier, number> = { '1m': 60_000, '10m': 600_000, '1h': 3_600_000 };

/** How long each tier is kept, ms. */
export type Retention = Record<Tier, number>;

const DAY = 86_400_000;
export const DEFAULT_RETENTION: Retention = { raw: DAY, '1m': 30 * DAY, '10m': 90 * DAY, '1h': 365 * DAY };

const LIMITS: Record<Tier, { min: number; max: number }> = {
  raw: { min: 3_600_000, max: 31 * DAY },
  '1m': { min: DAY, max: 2 * 365 * DAY },
  '10m': { min: DAY, max: 5 * 365 * DAY },
  '1h': { min: 7 * DAY, max: 20 * 365 * DAY },
};

/** `30d`, `1y`, `2w`: the duration parser's units plus weeks and (365-day) years. */
export function parseLongDuration(text: string): number | null {
  const long = /^\s*(\d+)\s*(w|y)\s*$/.exec(text);
  if (long) return Number(long[1]) * (long[2] === 'w' ? 7 * DAY : 365 * DAY);
  return parseDuration(text);
}

/**
 * `--retention raw=24h,1m=30d,10m=90d,1h=1y`: any subset, the others keep their defaults (10m, when not
 * given, at least as long as 1m and at most as long as 1h). A finer tier may not be kept longer than a
 * coarser one. Returns the retention or a one-line reason.
 */
export function parseRetention(text: string): { ok: true; value: Retention } | { ok: false; error: string } {
  const value: Retention = { ...DEFAULT_RETENTION };
  const given = new Set<Tier>();
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const item of items) {
    const match = /^(raw|1m|10m|1h)=(.+)$/.exec(item);
    if (!match) return { ok: false, error: `expected tier=duration items such as raw=24h,1m=30d,1h=1y (tiers: ${TIERS.join(', ')})` };
    const tier = match[1] as Tier;
    const ms = parseLongDuration(match[2] as string);
    if (ms === null) return { ok: false, error: `${tier}: expected a duration such as 24h, 30d or 1y` };
    const { min, max } = LIMITS[tier];
    if (ms < min || ms > max) return { ok: false, error: `${tier}: must be from ${formatDuration(min)} to ${formatDuration(max)}` };
    value[tier] = ms;
    given.add(tier);
  }
  if (!given.has('10m')) value['10m'] = Math.min(Math.max(value['10m'], value['1m']), value['1h']);
  if (value.raw > value['1m'] || value['1m'] > value['10m'] || value['10m'] > value['1h']) {
    return { ok: false, error: 'a finer tier cannot be kept longer than a coarser one (raw <= 1m <= 10m <= 1h)' };
  }
  return { ok: true, value };
}

export function formatRetention(retention: Retention): string {
  return TIERS.map((tier) => `${tier}=${formatDuration(retention[tier])}`).join(',');
}

export interface TierChoice {
  tier: Tier;
  /** The tier's own step, ms. */
  tierStep: number;
  /** The step of the rows answered: the tier's, or a whole multiple of it so that at most `points` rows come back. */
  step: number;
}

/**
 * The tier for a range: the coarsest that still gives at least half of `points` rows in the range, among the tiers
 * that still hold `from` (raw data older than its retention is gone, so an old range is answered from
 * 1m or 1h rows even when it is short). Its rows are merged by a whole factor when they would still be
 * more than `points`.
 */
export function chooseTier(from: number, to: number, points: number, intervalMs: number, retention: Retention, now: number): TierChoice {
  const wantedStep = Math.max(1, (to - from) / points);
  const steps: Record<Tier, number> = { raw: intervalMs, ...TIER_STEP_MS };
  const holds = (tier: Tier) => from >= now - retention[tier];
  let tier: Tier = '1h';
  for (const candidate of TIERS) {
    if (!holds(candidate) && candidate !== '1h') continue;
    tier = candidate;
    const coarser = TIERS[TIERS.indexOf(candidate) + 1];
    // The coarser tier when it still gives at least half the points asked for: far fewer rows to read.
    if (coarser === undefined || steps[coarser] > 2 * wantedStep) break;
  }
  const tierStep = steps[tier];
  const factor = Math.max(1, Math.ceil(wantedStep / tierStep - 1e-9));
  return { tier, tierStep, step: tierStep * factor };
}
