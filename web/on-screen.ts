/** How far outside the viewport a panel still counts as shown: drawn just before it scrolls in. */
const MARGIN = '200px 0px';

/**
 * Which elements (panels) are on the screen. A chart outside it is not drawn: on a page taller than the
 * screen that was most of the drawing. When an element comes back, `onShown` is called for it. Where
 * IntersectionObserver is missing, everything counts as shown.
 */
export class OnScreen {
  private readonly outside = new Set<Element>();
  private readonly observer: IntersectionObserver | null;

  constructor(onShown: (element: Element) => void) {
    this.observer =
      typeof IntersectionObserver === 'function'
        ? new IntersectionObserver(
            (entries) => {
              for (const entry of entries) {
                if (!entry.isIntersecting) this.outside.add(entry.target);
                else if (this.outside.delete(entry.target)) onShown(entry.target);
              }
            },
            { rootMargin: MARGIN },
          )
        : null;
  }

  observe(element: Element): void {
    this.observer?.observe(element);
  }

  forget(element: Element): void {
    this.observer?.unobserve(element);
    this.outside.delete(element);
  }

  /** Until the first report on an element, it counts as shown. */
  isShown(element: Element): boolean {
    return !this.outside.has(element);
  }
}
