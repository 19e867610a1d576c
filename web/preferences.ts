/** The view choices a user makes: kept in the URL (shareable) and in localStorage (remembered). */

/** Windows up to an hour are drawn from what the page holds; longer ones from the server's durable history. */
export const WINDOWS = [
  { label: '1m', ms: 60_000 },
  { label: '5m', ms: 300_000 },
  { label: '15m', ms: 900_000 },
  { label: '1h', ms: 3_600_000 },
  { label: '6h', ms: 6 * 3_600_000 },
  { label: '24h', ms: 24 * 3_600_000 },
  { label: '7d', ms: 7 * 86_400_000 },
  { label: '30d', ms: 30 * 86_400_000 },
  { label: '1y', ms: 365 * 86_400_000 },
] as const;
export type WindowLabel = (typeof WINDOWS)[number]['label'];

export const THEMES = ['auto', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEMES)[number];

export interface Preferences {
  window: WindowLabel;
  theme: ThemeChoice;
  /** `?kiosk`: a wall screen. Only from the URL: a kiosk is a way of opening the page, not a setting. */
  kiosk: boolean;
}

const STORAGE_PREFIX = 'pulseboard:';
const DEFAULTS: Omit<Preferences, 'kiosk'> = { window: '5m', theme: 'auto' };

const isWindow = (value: string | null): value is WindowLabel => WINDOWS.some((w) => w.label === value);
const isTheme = (value: string | null): value is ThemeChoice => (THEMES as readonly string[]).includes(value ?? '');

function stored(key: string): string | null {
  try {
    return localStorage.getItem(STORAGE_PREFIX + key);
  } catch {
    return null; // storage disabled (privacy mode, sandboxed frame)
  }
}

/** The URL wins (a shared link shows what its sender saw), then what this browser remembers, then defaults. */
export function readPreferences(url: URL = new URL(location.href)): Preferences {
  const pick = <T extends string>(key: string, valid: (value: string | null) => value is T, fallback: T): T => {
    const fromUrl = url.searchParams.get(key);
    if (valid(fromUrl)) return fromUrl;
    const fromStorage = stored(key);
    return valid(fromStorage) ? fromStorage : fallback;
  };
  const kiosk = url.searchParams.get('kiosk');
  return {
    window: pick('window', isWindow, DEFAULTS.window),
    theme: pick('theme', isTheme, DEFAULTS.theme),
    kiosk: kiosk !== null && kiosk !== '0' && kiosk !== 'false',
  };
}

/** Remembers a choice and writes it into the address bar without a reload or a history entry. */
export function savePreference(key: 'window' | 'theme', value: string): void {
  try {
    localStorage.setItem(STORAGE_PREFIX + key, value);
  } catch {
    // not remembered; the URL still carries it
  }
  const url = new URL(location.href);
  url.searchParams.set(key, value);
  if (key === 'window') {
    url.searchParams.delete('from');
    url.searchParams.delete('to');
  }
  // Unchanged (every load of a window without a range): no history entry to rewrite, a round trip to the browser.
  if (url.href !== location.href) history.replaceState(history.state, '', url);
}

/** `?from=&to=` (ms since epoch): a range of history to open at, so "look at this" can be shared. Null when absent or not a range. */
export function readRange(url: URL = new URL(location.href)): { from: number; to: number } | null {
  const from = url.searchParams.get('from');
  const to = url.searchParams.get('to');
  if (!from || !to || !/^\d{1,15}$/.test(from) || !/^\d{1,15}$/.test(to)) return null;
  return Number(from) < Number(to) ? { from: Number(from), to: Number(to) } : null;
}

/** Puts a range in the address bar (a page reloaded or shared opens at it), or takes it out. */
export function saveRange(range: { from: number; to: number } | null): void {
  const url = new URL(location.href);
  if (range) {
    url.searchParams.set('from', String(range.from));
    url.searchParams.set('to', String(range.to));
  } else {
    url.searchParams.delete('from');
    url.searchParams.delete('to');
  }
  // Unchanged (every load of a window without a range): no history entry to rewrite, a round trip to the browser.
  if (url.href !== location.href) history.replaceState(history.state, '', url);
}

export function windowMs(label: WindowLabel): number {
  return WINDOWS.find((w) => w.label === label)?.ms ?? 300_000;
}
