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

/**
 * A wall screen cannot scroll: keeps every box under `root` showing only whole rows, again whenever rows are
 * added or removed or the screen changes size (at most once a frame).
 */
export function fitRowsWithin(root: HTMLElement): void {
  let scheduled = false;
  const fitAll = () => {
    scheduled = false;
    for (const box of root.querySelectorAll<HTMLElement>(BOXES)) fitRows(box);
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(fitAll);
  };
  new MutationObserver(schedule).observe(root, { childList: true, subtree: true });
  new ResizeObserver(schedule).observe(root);
  schedule();
}
