import type { ChannelHealth } from '../protocol.js';
import { type ChannelConfig, type ChannelType, secretsOf } from './channel-config.js';
import { type Attempt, DeliveryQueue, type DeliveryQueueOptions } from './delivery-queue.js';
import { sendEmail } from './email.js';
import { discordRequest, ntfyRequest, slackRequest, telegramRequest, webhookBody } from './formats.js';
import { type PostRequest, postOnce } from './http-post.js';
import type { AlertNotice } from './notice.js';
import { AlertWebhook } from './webhook.js';

export interface ChannelOptions extends DeliveryQueueOptions {
  /** Longest one try may take (an HTTP answer, an SMTP conversation). */
  timeoutMs?: number;
  /** Starts its log lines; by default `alert channel "NAME" (TYPE)`. */
  label?: string;
  /** What a redirect's log line tells the operator to fix; by default the channel's URL. */
  setting?: string;
}

/** A place alert messages go, with its own queue: one slow or dead channel never holds up another. */
export interface Channel {
  readonly name: string;
  readonly type: ChannelType;
  readonly pending: number;
  send(notice: AlertNotice): void;
  health(): ChannelHealth;
  close(): void;
}

const describe = (notice: AlertNotice) => (notice.kind === 'test' ? 'test message' : `${notice.kind} message of ${notice.alert.rule}`);

export function openChannel(config: ChannelConfig, options: ChannelOptions = {}): Channel {
  const {
    timeoutMs = config.type === 'email' ? 30_000 : 5000,
    label = `alert channel "${config.name}" (${config.type})`,
    setting = `the URL of channel "${config.name}"`,
    ...queueOptions
  } = options;
  if (config.type === 'webhook') {
    const hook = new AlertWebhook(config.url, { ...queueOptions, timeoutMs, label, setting, secrets: secretsOf(config) });
    return {
      name: config.name,
      type: config.type,
      get pending() {
        return hook.pending;
      },
      send: (notice) => hook.send(webhookBody(notice)),
      health: () => ({ name: config.name, type: config.type, ...hook.health() }),
      close: () => hook.close(),
    };
  }
  let target: string;
  let attempt: (notice: AlertNotice) => Promise<Attempt>;
  if (config.type === 'email') {
    target = `mail to ${config.host}:${config.port}`;
    attempt = (notice) => sendEmail(config, notice, timeoutMs);
  } else {
    const request = httpRequestOf(config);
    target = `POST to ${(config.type === 'telegram' ? config.apiUrl : config.url).origin}`;
    attempt = (notice) => postOnce(request(notice), timeoutMs, describe(notice), setting);
  }
  const queue = new DeliveryQueue(label, target, attempt, describe, queueOptions, secretsOf(config));
  return {
    name: config.name,
    type: config.type,
    get pending() {
      return queue.pending;
    },
    send: (notice) => queue.send(notice),
    health: () => ({ name: config.name, type: config.type, ...queue.health() }),
    close: () => queue.close(),
  };
}

function httpRequestOf(config: Exclude<ChannelConfig, { type: 'webhook' | 'email' }>): (notice: AlertNotice) => PostRequest {
  switch (config.type) {
    case 'ntfy':
      return (notice) => ntfyRequest(config.url, config.token, notice);
    case 'slack':
      return (notice) => slackRequest(config.url, notice);
    case 'discord':
      return (notice) => discordRequest(config.url, notice);
    case 'telegram':
      return (notice) => telegramRequest(config.apiUrl, config.token, config.chatId, notice);
  }
}

/** Which channels a rule's messages go to. */
export interface Routes {
  /** A rule's own list (possibly empty: it sends nowhere). */
  byRule: ReadonlyMap<string, readonly string[]>;
  /** For rules without a list: these, or every channel when null. */
  defaults: readonly string[] | null;
}

/** Every channel, and the routing of each alert message to the ones its rule names. */
export class AlertChannels {
  private readonly channels = new Map<string, Channel>();

  constructor(
    channels: readonly Channel[],
    private readonly routes: Routes,
  ) {
    for (const channel of channels) this.channels.set(channel.name, channel);
  }

  get names(): string[] {
    return [...this.channels.keys()];
  }

  /** Queues `notice` on each channel of its rule; returns at once. */
  notify(notice: AlertNotice): void {
    for (const name of this.routeOf(notice.alert.rule)) this.channels.get(name)?.send(notice);
  }

  /** Queues a test message on one channel; false when there is no channel of that name. */
  test(name: string, notice: AlertNotice): boolean {
    const channel = this.channels.get(name);
    channel?.send(notice);
    return channel !== undefined;
  }

  routeOf(rule: string): readonly string[] {
    return this.routes.byRule.get(rule) ?? this.routes.defaults ?? this.names;
  }

  health(): ChannelHealth[] {
    return [...this.channels.values()].map((channel) => channel.health());
  }

  get pending(): number {
    let sum = 0;
    for (const channel of this.channels.values()) sum += channel.pending;
    return sum;
  }

  close(): void {
    for (const channel of this.channels.values()) channel.close();
  }
}
