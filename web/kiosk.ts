import { setChartFontSize } from './charts/time-chart.js';
import { fitRowsWithin } from './ui/fit-rows.js';

/**
 * A wall screen read from across a room: no controls, no cursor, type scaled with the screen (the CSS
 * sizes the root font from the viewport), chart labels scaled to match, and every panel on the screen at
 * once (the CSS sizes the grid to the viewport; tables keep the rows that fit). Runs before any chart exists.
 */
export function enterKiosk(): void {
  document.documentElement.classList.add('kiosk');
  const rootPx = Number.parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  setChartFontSize(Math.round(rootPx * 0.75));
  fitRowsWithin(document.body);
}

const RELOADED_FOR = 'pulseboard:reloaded-for-version';

/**
 * When the server comes back with another version than the page first met, the page reloads itself so a
 * wall picks up the new build. Once per version: if the reload brings the same old page, it does not loop.
 */
export class VersionWatch {
  private firstVersion: string | null = null;

  constructor(private readonly reload: () => void = () => location.reload()) {}

  seen(version: string): void {
    if (this.firstVersion === null) {
      this.firstVersion = version;
      return;
    }
    if (version === this.firstVersion) return;
    let already: string | null = null;
    try {
      already = sessionStorage.getItem(RELOADED_FOR);
      sessionStorage.setItem(RELOADED_FOR, version);
    } catch {
      // without storage the guard is this page's life: it reloads at most once anyway
    }
    if (already === version) return;
    this.firstVersion = version;
    this.reload();
  }
}
