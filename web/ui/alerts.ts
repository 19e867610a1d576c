import type { AlertPayload, ChannelHealth, SilencePayload } from '../../server/protocol.js';
import { formatClock } from '../format.js';
import { el } from './dom.js';

/** Changes kept in the on-page log. */
const LOG_LENGTH = 50;

/** What the banner's silence button asks for. */
const SILENCE_FOR = '1h';

/**
 * Alerts as the page shows them: a banner of what fires now (announced to screen readers), a log of
 * changes, and browser notifications once the user has allowed them with a click.
 */
export class AlertCenter {
  private readonly active = new Map<string, AlertPayload>();
  /** Rule → end of its silence, ms since epoch. */
  private readonly silences = new Map<string, number>();
  private silenceEnds: ReturnType<typeof setTimeout> | undefined;
  private readonly list: HTMLElement;

  /** @param canSilence false where the server cannot silence (a fleet hub's host view) */
  private readonly channelTests: HTMLElement;

  constructor(
    private readonly banner: HTMLElement,
    log: HTMLElement,
    private readonly canSilence = true,
  ) {
    this.list = el('ol', { class: 'log-list', reversed: '' });
    this.channelTests = el('p', { class: 'channel-tests', hidden: '' });
    log.append(el('h2', {}, ['Alert log']), this.channelTests, this.list);
    this.renderBanner();
  }

  /** A "send a test" button per alert channel (from `hello`, then `health` events), marked while it fails. */
  showChannels(channels: readonly ChannelHealth[]): void {
    this.channelTests.hidden = channels.length === 0;
    this.channelTests.replaceChildren(
      'send a test to ',
      ...channels.map(({ name, ok, reason }) => {
        const label = ok ? name : `${name} (failing)`;
        const button = el('button', { type: 'button', class: 'channel-test', 'data-channel': name, 'data-ok': String(ok) }, [label]);
        if (!ok) button.title = `failing: ${reason ?? 'unknown reason'}`;
        button.addEventListener('click', () => {
          button.disabled = true;
          void fetch(`api/alerts/channels/${encodeURIComponent(name)}/test`, { method: 'POST', cache: 'no-store' })
            .then(async (response) => {
              if (!response.ok) throw new Error(((await response.json()) as { error?: string }).error ?? `answered ${response.status}`);
              button.textContent = `${name}: queued`;
              button.title = 'queued; if it does not arrive, /healthz says why under alerts.channels';
            })
            .catch((error: unknown) => {
              button.textContent = `${name}: failed`;
              button.title = error instanceof Error ? error.message : String(error);
            })
            .finally(() => {
              button.disabled = false;
            });
        });
        return button;
      }),
    );
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

  /** From a backfill: the silences not yet over. */
  replaceSilences(silences: readonly SilencePayload[]): void {
    this.silences.clear();
    for (const silence of silences) this.applySilence(silence, false);
    this.renderBanner();
  }

  applySilence(silence: SilencePayload, render = true): void {
    if (silence.until === null) this.silences.delete(silence.rule);
    else this.silences.set(silence.rule, silence.until);
    if (render) this.renderBanner();
  }

  /** Rules silenced now (for tests and the console). */
  silencedRules(): string[] {
    const now = Date.now();
    return [...this.silences].filter(([, until]) => until > now).map(([rule]) => rule);
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
    const now = Date.now();
    const items = [...this.active.values()].sort((a, b) => severityRank(b) - severityRank(a) || a.since - b.since);
    this.banner.replaceChildren(
      ...items.map((alert) => {
        const until = this.silences.get(alert.rule);
        const silenced = until !== undefined && until > now;
        const children: (Node | string)[] = [
          el('strong', {}, [alert.severity]),
          ` ${alert.rule}: ${alert.message} (since ${formatClock(alert.since)})`,
        ];
        if (silenced) children.push(' ', el('span', { class: 'silenced' }, [`silenced until ${formatClock(until)}`]));
        if (this.canSilence) children.push(' ', this.silenceButton(alert.rule, silenced));
        return el(
          'p',
          { class: 'alert', 'data-severity': alert.severity, 'data-rule': alert.rule, 'data-silenced': String(silenced) },
          children,
        );
      }),
    );
    // Redraw when the next silence ends, so its mark goes without a server event.
    clearTimeout(this.silenceEnds);
    const ends = [...this.silences.values()].filter((until) => until > now);
    if (ends.length > 0) this.silenceEnds = setTimeout(() => this.renderBanner(), Math.min(...ends) - now + 50);
  }

  private silenceButton(rule: string, silenced: boolean): HTMLButtonElement {
    const button = el('button', { type: 'button', class: 'silence', 'data-rule': rule }, [
      silenced ? 'unsilence' : `silence ${SILENCE_FOR}`,
    ]);
    button.addEventListener('click', () => {
      button.disabled = true;
      const path = `api/alerts/${encodeURIComponent(rule)}/silence${silenced ? '' : `?for=${SILENCE_FOR}`}`;
      // The server logs a `silence` event; every tab redraws from it. Only a failure is shown here.
      void fetch(path, { method: silenced ? 'DELETE' : 'POST', cache: 'no-store' })
        .then(async (response) => {
          if (!response.ok) throw new Error(((await response.json()) as { error?: string }).error ?? `answered ${response.status}`);
        })
        .catch((error: unknown) => {
          button.disabled = false;
          button.textContent = 'failed';
          button.title = error instanceof Error ? error.message : String(error);
        });
    });
    return button;
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
