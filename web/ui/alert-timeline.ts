import type { AlertHistoryResponse, AlertPayload, AlertRange } from '../../server/protocol.js';
import { formatClock } from '../format.js';
import { el } from './dom.js';

/** Spans kept on the page; the oldest go first (the server keeps the whole history). */
const MAX_RANGES = 5000;
/** How often the timeline follows the charts' visible range. */
const FOLLOW_MS = 1000;

/**
 * When each rule fired, under the charts: one row per rule with a bar over each span it fired in the
 * range the charts show. Loaded from `/api/alerts` and kept current by the stream's `alert` events; the
 * same spans are drawn as bands on the charts.
 */
export class AlertTimeline {
  private ranges: AlertRange[] = [];
  private shownKey = '';
  private readonly rows: HTMLElement;

  constructor(
    root: HTMLElement,
    /** The x range the charts show, ms. */
    private readonly visible: () => { min: number; max: number } | null,
  ) {
    this.rows = el('div', { class: 'timeline-rows' });
    root.append(el('h2', {}, ['Alert timeline']), this.rows);
    setInterval(() => this.render(), FOLLOW_MS);
  }

  /** The history as far back as the server keeps it. */
  async load(retentionMs: number): Promise<void> {
    const response = await fetch(`api/alerts?from=${Date.now() - retentionMs}&to=now`, { cache: 'no-store' });
    if (!response.ok) throw new Error(`alert history answered ${response.status}`);
    const history = (await response.json()) as AlertHistoryResponse;
    this.ranges = history.ranges.slice(-MAX_RANGES);
    this.render(true);
  }

  apply(change: AlertPayload): void {
    const open = this.ranges.findLast((range) => range.rule === change.rule && range.to === null);
    if (change.state === 'firing' && !open) {
      this.ranges.push({ rule: change.rule, metric: change.metric, severity: change.severity, from: change.since, to: null, end: null });
      if (this.ranges.length > MAX_RANGES) this.ranges.shift();
    } else if (change.state === 'resolved' && open) {
      open.to = change.t;
      open.end = 'resolved';
    }
    this.render(true);
  }

  /** The spans for the charts' bands (their `FiringSpan`). */
  spans(): Pick<AlertRange, 'from' | 'to' | 'severity'>[] {
    return this.ranges.map((range) => ({ from: range.from, to: range.to, severity: range.severity }));
  }

  private render(force = false): void {
    const shown = this.visible();
    if (!shown || shown.max <= shown.min) return;
    const key = `${Math.round(shown.min / 1000)}|${Math.round(shown.max / 1000)}|${this.ranges.length}`;
    if (!force && key === this.shownKey) return;
    this.shownKey = key;
    const width = shown.max - shown.min;
    const byRule = new Map<string, AlertRange[]>();
    for (const range of this.ranges) {
      if (range.from > shown.max || (range.to !== null && range.to < shown.min)) continue;
      const list = byRule.get(range.rule) ?? [];
      list.push(range);
      byRule.set(range.rule, list);
    }
    if (byRule.size === 0) {
      this.rows.replaceChildren(el('p', { class: 'timeline-empty' }, ['No alert fired in the range shown.']));
      return;
    }
    this.rows.replaceChildren(
      ...[...byRule].map(([rule, ranges]) =>
        el('div', { class: 'timeline-row', 'data-rule': rule }, [
          el('span', { class: 'timeline-rule' }, [rule]),
          el(
            'div',
            { class: 'timeline-track' },
            ranges.map((range) => {
              const left = Math.max(0, (range.from - shown.min) / width);
              const right = Math.min(1, ((range.to ?? shown.max) - shown.min) / width);
              const ended =
                range.to === null ? 'still firing' : `to ${formatClock(range.to)}${range.end === 'restart' ? ' (server restarted)' : ''}`;
              const bar = el('span', {
                class: 'timeline-span',
                'data-severity': range.severity,
                title: `${rule} fired from ${formatClock(range.from)} ${ended}`,
              });
              // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
              bar.style.left = `${(left * 100).toFixed(3)}%`;
              bar.style.width = `${(Math.max(0.002, right - left) * 100).toFixed(3)}%`;
              return bar;
            }),
          ),
        ]),
      ),
    );
  }
}
