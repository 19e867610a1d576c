import type { AlertPayload } from '../../server/protocol.js';
import { formatClock } from '../format.js';
import { el } from './dom.js';

/** Changes kept in the on-page log. */
const LOG_LENGTH = 50;

/**
 * Alerts as the page shows them: a banner of what fires now (announced to screen readers), a log of
 * changes, and browser notifications once the user has allowed them with a click.
 */
export class AlertCenter {
  private readonly active = new Map<string, AlertPayload>();
  private readonly list: HTMLElement;

  constructor(
    private readonly banner: HTMLElement,
    log: HTMLElement,
  ) {
    this.list = el('ol', { class: 'log-list', reversed: '' });
    log.append(el('h2', {}, ['Alert log']), this.list);
    this.renderBanner();
  }

  /** From a backfill: what fires right now. */
  replaceActive(alerts: AlertPayload[]): void {
    this.active.clear();
    for (const alert of alerts) this.active.set(alert.rule, alert);
    this.renderBanner();
  }

  apply(change: AlertPayload): void {
    if (change.state === 'firing') this.active.set(change.rule, change);
    else this.active.delete(change.rule);
    this.renderBanner();
    this.log(change);
    this.notify(change);
  }

  activeRules(): string[] {
    return [...this.active.keys()];
  }

  static canAsk(): boolean {
    return typeof Notification !== 'undefined' && Notification.permission === 'default';
  }

  /** Must run from a click: browsers ignore permission requests made without a user gesture. */
  static async askPermission(): Promise<void> {
    if (typeof Notification !== 'undefined') await Notification.requestPermission();
  }

  private renderBanner(): void {
    this.banner.hidden = this.active.size === 0;
    const items = [...this.active.values()].sort((a, b) => severityRank(b) - severityRank(a) || a.since - b.since);
    this.banner.replaceChildren(
      ...items.map((alert) =>
        el('p', { class: 'alert', 'data-severity': alert.severity, 'data-rule': alert.rule }, [
          el('strong', {}, [alert.severity]),
          ` ${alert.rule}: ${alert.message} (since ${formatClock(alert.since)})`,
        ]),
      ),
    );
  }

  private log(change: AlertPayload): void {
    const item = el('li', { 'data-state': change.state, 'data-rule': change.rule }, [
      el('time', {}, [formatClock(change.t)]),
      ` ${change.state === 'firing' ? 'FIRING' : 'resolved'} ${change.rule}: ${change.message}`,
    ]);
    this.list.prepend(item);
    while (this.list.children.length > LOG_LENGTH) this.list.lastElementChild?.remove();
  }

  private notify(change: AlertPayload): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    // The tag makes the tabs of one browser (each gets the event) show one notification per rule.
    new Notification(`${change.state === 'firing' ? change.severity.toUpperCase() : 'resolved'}: ${change.rule}`, {
      body: change.message,
      tag: `pulseboard-${change.rule}`,
    });
  }
}

const severityRank = (alert: AlertPayload) => (alert.severity === 'critical' ? 2 : 1);
