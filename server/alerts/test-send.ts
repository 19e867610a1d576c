import type { ChannelConfig } from './channel-config.js';
import { type ChannelOptions, openChannel } from './channels.js';
import { boardLink } from './notice.js';
import { testAlert } from './notifier.js';

/**
 * `pulseboard test-alert --channel NAME`: one test message, one try, and its outcome. The channel's own
 * log line says why a try failed (never its secret).
 */
export async function sendTestMessage(
  config: ChannelConfig,
  host: string,
  publicUrl: URL | null,
  options: ChannelOptions = {},
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const channel = openChannel(config, { ...options, attempts: 1, failingAfter: 1 });
  const alert = testAlert(config.name, Date.now());
  channel.send({ kind: 'test', alert, host, topOf: 'processes', top: [], link: boardLink(publicUrl, alert) });
  while (channel.pending > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const health = channel.health();
  channel.close();
  return health.ok ? { ok: true } : { ok: false, reason: health.reason ?? 'failed' };
}
