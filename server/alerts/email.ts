import type { ChannelConfig } from './channel-config.js';
import type { Attempt } from './delivery-queue.js';
import { emailContent } from './formats.js';
import type { AlertNotice } from './notice.js';

type EmailChannel = Extract<ChannelConfig, { type: 'email' }>;

/** nodemailer is loaded on the first email: a server without an email channel never pays for it. */
let mailer: Promise<typeof import('nodemailer')> | null = null;

/**
 * One email over SMTP, a fresh connection each time (alerts are rare; a kept-open one would go stale).
 * A permanent refusal (5xx: bad login, unknown recipient) is not retried; anything else is.
 */
export async function sendEmail(channel: EmailChannel, notice: AlertNotice, timeoutMs: number): Promise<Attempt> {
  mailer ??= import('nodemailer');
  const nodemailer = (await mailer).default;
  const transport = nodemailer.createTransport({
    host: channel.host,
    port: channel.port,
    secure: channel.security === 'tls',
    requireTLS: channel.security === 'starttls',
    ignoreTLS: channel.security === 'none',
    auth: channel.user && channel.password ? { user: channel.user, pass: channel.password } : undefined,
    ...(channel.ca ? { tls: { ca: channel.ca } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const { subject, text } = emailContent(notice);
  try {
    await transport.sendMail({ from: channel.from, to: channel.to, subject, text });
    return { outcome: 'delivered' };
  } catch (error) {
    const { responseCode, message } = error as { responseCode?: number; message?: string };
    const reason = (message ?? String(error)).split('\n')[0] ?? 'failed';
    if (responseCode !== undefined && responseCode >= 500 && responseCode < 600) {
      return { outcome: 'dropped', reason: `${channel.host}:${channel.port} refused the message: ${reason}; not retrying` };
    }
    return { outcome: 'retry', reason };
  } finally {
    transport.close();
  }
}
