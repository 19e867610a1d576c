import type { AlertPayload, ChannelHealth, ContainersSample, ProcessesSample, Sample, Topic } from '../protocol.js';
import type { ChannelConfig } from './channel-config.js';
import { AlertChannels, type ChannelOptions, openChannel } from './channels.js';
import { type AlertNotice, boardLink, type NoticeKind, topContainers, topProcesses } from './notice.js';
import type { AlertSettings } from './rules.js';
import { Silences } from './silences.js';

export interface NotifierOptions {
  settings: AlertSettings;
  /** `--alert-webhook`: a webhook channel named `alert-webhook`, on the default route. */
  webhook: URL | null;
  /** `--public-url`, over the rules file's `public_url`. */
  publicUrl: URL | null;
  host: string;
  /** A channel started or stopped failing. */
  onHealthChange?: (channels: ChannelHealth[]) => void;
  /** Per-channel queue settings (tests shorten the retries). */
  channel?: ChannelOptions;
}

/** The name of the channel `--alert-webhook` makes. */
export const FLAG_WEBHOOK = 'alert-webhook';

/**
 * Turns alert changes into messages (host, value, since, top 3, link) and hands them to the channels of
 * each rule. It keeps the newest processes and containers samples, so the top 3 are those of the moment.
 */
export class AlertNotifier {
  readonly channels: AlertChannels;
  /** Rules whose messages are held back for a while (the page's silence button, `POST .../silence`). */
  readonly silences = new Silences();
  private processes: ProcessesSample | null = null;
  private containers: ContainersSample | null = null;
  private readonly publicUrl: URL | null;

  constructor(private readonly options: NotifierOptions) {
    const { settings } = options;
    this.publicUrl = options.publicUrl ?? settings.publicUrl ?? null;
    const configs: ChannelConfig[] = [...(settings.channels ?? [])];
    const defaults = settings.defaultChannels ? [...settings.defaultChannels] : null;
    const queueOptions = { ...options.channel, onHealthChange: () => options.onHealthChange?.(this.channels.health()) };
    const channels = configs.map((config) => openChannel(config, queueOptions));
    if (options.webhook) {
      channels.push(
        openChannel(
          { name: FLAG_WEBHOOK, type: 'webhook', url: options.webhook },
          { ...queueOptions, label: 'alert webhook', setting: '--alert-webhook' },
        ),
      );
      defaults?.push(FLAG_WEBHOOK);
    }
    const byRule = new Map<string, string[]>();
    for (const rule of settings.rules) if (rule.channels) byRule.set(rule.name, rule.channels);
    this.channels = new AlertChannels(channels, { byRule, defaults });
  }

  /** Every sample passes here; only the ones a message quotes are kept (the newest of each). */
  observe(topic: Topic, sample: Sample): void {
    if (topic === 'processes') this.processes = sample as ProcessesSample;
    else if (topic === 'containers') this.containers = sample as ContainersSample;
  }

  /** Sends the change (or reminder) to its rule's channels, unless the rule is silenced now. */
  notify(change: AlertPayload, kind: NoticeKind = change.state): void {
    if (this.silences.isSilenced(change.rule, Date.now())) return;
    this.channels.notify(this.notice(change, kind));
  }

  /** Queues a test message on one channel; false when it does not exist. */
  test(channel: string): boolean {
    return this.channels.test(channel, this.notice(testAlert(channel, Date.now()), 'test'));
  }

  /** Which top list a message about `alert` quotes. */
  quotedTopic(alert: AlertPayload): 'processes' | 'containers' {
    return alert.metric === 'containerMemory' ? 'containers' : 'processes';
  }

  notice(alert: AlertPayload, kind: NoticeKind): AlertNotice {
    const containers = this.quotedTopic(alert) === 'containers';
    return {
      kind,
      alert,
      host: this.options.host,
      topOf: containers ? 'containers' : 'processes',
      top: containers ? topContainers(this.containers) : topProcesses(this.processes, alert.metric === 'memory'),
      link: boardLink(this.publicUrl, alert),
    };
  }

  health(): ChannelHealth[] {
    return this.channels.health();
  }

  close(): void {
    this.channels.close();
  }
}

/** The alert a test message is about: no rule fired, the message says so. */
export function testAlert(channel: string, now: number): AlertPayload {
  return {
    t: now,
    rule: 'test',
    metric: 'cpu',
    state: 'firing',
    severity: 'warning',
    value: 0,
    threshold: 0,
    since: now,
    message: `A test of channel "${channel}"`,
  };
}
