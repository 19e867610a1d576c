/** Rows of tables and lists; in a kiosk, those past the bottom of their box are hidden, not cut in half. */
const ROWS = 'tbody tr, li';
/** The boxes rows must fit in: a panel's body, and the alert log's list. */
const BOXES = '.panel .body, .log-list';

/** Shows the rows of `box` that fit whole inside it, in order, and hides the rest. */
export function fitRows(box: HTMLElement): void {
  const rows = [...box.querySelectorAll<HTMLElement>(ROWS)];
  for (const row of rows) row.hidden = false;
  const bottom = box.getBoundingClientRect().bottom;
  let cut = false;
  for (const row of rows) {
    cut ||= row.getBoundingClientRect().bottom > bottom + 0.5;
    row.hidden = cut;
  }
}

/** Elements whose children are rows, or panels: a change in their children may change what fits. */
const ROW_PARENTS = new Set(['TBODY', 'UL', 'OL', 'MAIN']);

/**
 * A wall screen cannot scroll: keeps every box under `root` showing only whole rows, again whenever rows are
 * added or removed or a box changes size (at most once a frame). Text changing inside a row does not count:
 * in a kiosk rows are one line, and the numbers change many times a second.
 */
export function fitRowsWithin(root: HTMLElement): void {
  let scheduled = false;
  const resized = new ResizeObserver(() => schedule());
  const fitAll = () => {
    scheduled = false;
    for (const box of root.querySelectorAll<HTMLElement>(BOXES)) {
      resized.observe(box);
      fitRows(box);
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(fitAll);
  };
  new MutationObserver((mutations) => {
    if (mutations.some((mutation) => ROW_PARENTS.has(mutation.target.nodeName))) schedule();
  }).observe(root, { childList: true, subtree: true });
  schedule();
}
