/** What the watch reads: the window, or a stand-in in the unit tests. */
export interface PixelRatioSource {
  readonly devicePixelRatio: number;
  matchMedia(query: string): Pick<MediaQueryList, 'addEventListener'>;
}

/**
 * Calls back when `devicePixelRatio` changes with no change of CSS size: the window moved to a screen of
 * another density (a chart's ResizeObserver sees browser zoom, which changes its CSS size, but not that).
 * One media query for the page, made again for the new ratio at each change.
 */
export class PixelRatioWatch {
  private readonly listeners = new Set<() => void>();
  private watching = false;

  constructor(private readonly source: PixelRatioSource) {}

  /** Subscribes; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    if (!this.watching) this.watch();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private watch(): void {
    this.watching = true;
    const query = this.source.matchMedia(`(resolution: ${this.source.devicePixelRatio || 1}dppx)`);
    query.addEventListener('change', () => this.changed(), { once: true });
  }

  private changed(): void {
    this.watch();
    for (const listener of this.listeners) listener();
  }
}

let pageWatch: PixelRatioWatch | null = null;

/** The page's one watch (none where there is no `matchMedia`: a chart then sees a new ratio at its next draw). */
export function onPixelRatioChange(listener: () => void): () => void {
  if (typeof window.matchMedia !== 'function') return () => undefined;
  pageWatch ??= new PixelRatioWatch(window);
  return pageWatch.subscribe(listener);
}
