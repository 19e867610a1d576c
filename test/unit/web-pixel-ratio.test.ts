import { describe, expect, it } from 'vitest';
import { type PixelRatioSource, PixelRatioWatch } from '../../web/charts/pixel-ratio.js';

/** A screen whose density the test changes, with media queries that fire as a browser's do. */
function fakeScreen() {
  const queries: { query: string; fire: () => void }[] = [];
  const screen = {
    devicePixelRatio: 1,
    matchMedia(query: string) {
      return {
        addEventListener(_type: string, listener: () => void, options?: AddEventListenerOptions) {
          expect(options?.once).toBe(true);
          queries.push({ query, fire: listener });
        },
      } as unknown as MediaQueryList;
    },
    /** Moves the window to a screen of this density: the query made for the old one reports its change. */
    moveTo(ratio: number) {
      const old = queries.find((q) => q.query === `(resolution: ${screen.devicePixelRatio}dppx)`);
      screen.devicePixelRatio = ratio;
      queries.splice(queries.indexOf(old as (typeof queries)[number]), 1);
      old?.fire();
    },
    queries,
  };
  return screen satisfies PixelRatioSource;
}

describe('the page watches its device pixel ratio', () => {
  it('calls every subscriber at each change, watching the new ratio after each', () => {
    const screen = fakeScreen();
    const watch = new PixelRatioWatch(screen);
    const seen: string[] = [];
    watch.subscribe(() => seen.push(`a ${screen.devicePixelRatio}`));
    watch.subscribe(() => seen.push(`b ${screen.devicePixelRatio}`));
    expect(screen.queries.map((q) => q.query)).toEqual(['(resolution: 1dppx)']); // one query for the page

    screen.moveTo(2);
    expect(seen).toEqual(['a 2', 'b 2']);
    expect(screen.queries.map((q) => q.query)).toEqual(['(resolution: 2dppx)']);
    screen.moveTo(1.5);
    expect(seen).toEqual(['a 2', 'b 2', 'a 1.5', 'b 1.5']);
    expect(screen.queries.map((q) => q.query)).toEqual(['(resolution: 1.5dppx)']);
  });

  it('stops calling a subscriber that left', () => {
    const screen = fakeScreen();
    const watch = new PixelRatioWatch(screen);
    let calls = 0;
    const leave = watch.subscribe(() => calls++);
    screen.moveTo(2);
    leave();
    screen.moveTo(1);
    expect(calls).toBe(1);
  });
});
