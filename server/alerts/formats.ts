import type { PostRequest } from './http-post.js';
import { type AlertNotice, noticeLines, noticeText, noticeTitle } from './notice.js';

/** Slack's mrkdwn and Telegram's HTML mode both need only `&`, `<` and `>` escaped. */
function escapeMarkup(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'User-Agent': 'pulseboard' };

/** Red, amber, green: the embed's left bar in Discord. */
const DISCORD_COLOURS = { critical: 0xd93025, warning: 0xf29900, resolved: 0x1e8e3e, test: 0x5865f2 };

function tone(notice: AlertNotice): keyof typeof DISCORD_COLOURS {
  if (notice.kind === 'test') return 'test';
  return notice.kind === 'resolved' ? 'resolved' : notice.alert.severity;
}

/**
 * ntfy's JSON publish (https://docs.ntfy.sh/publish/#publish-as-json): posted to the server's root with
 * the topic in the body, so a title with any character needs no header encoding. Priority from severity:
 * critical 5 (urgent), warning 4 (high), resolved and test 3 (default).
 */
export function ntfyRequest(topicUrl: URL, token: string | null, notice: AlertNotice): PostRequest {
  const { root, topic } = splitTopic(topicUrl);
  const kind = tone(notice);
  const body = {
    topic,
    title: noticeTitle(notice),
    message: noticeLines(notice).join('\n'),
    priority: kind === 'critical' ? 5 : kind === 'warning' ? 4 : 3,
    tags: [{ critical: 'rotating_light', warning: 'warning', resolved: 'white_check_mark', test: 'test_tube' }[kind]],
    ...(notice.link ? { click: notice.link } : {}),
  };
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (token) headers.Authorization = `Bearer ${token}`;
  return { url: root, headers, body: JSON.stringify(body) };
}

/** `https://ntfy.sh/alerts` → root `https://ntfy.sh/` and topic `alerts` (a server under a path keeps it). */
export function splitTopic(topicUrl: URL): { root: URL; topic: string } {
  const segments = topicUrl.pathname.split('/');
  const topic = segments.pop() ?? '';
  const root = new URL(topicUrl);
  root.pathname = `${segments.join('/')}/`;
  root.search = '';
  return { root, topic };
}

/** A Slack incoming webhook: `text` in Slack's mrkdwn, where `&`, `<` and `>` must be escaped. */
export function slackRequest(webhookUrl: URL, notice: AlertNotice): PostRequest {
  const lines = [`*${escapeMarkup(noticeTitle(notice))}*`, ...noticeLines(notice).map(escapeMarkup)];
  if (notice.link) lines.push(`<${notice.link}|Open the board at that time>`);
  return { url: webhookUrl, headers: { ...JSON_HEADERS }, body: JSON.stringify({ text: lines.join('\n') }) };
}

/** A Discord webhook: one embed, coloured by state; no mentions, whatever a process is called. */
export function discordRequest(webhookUrl: URL, notice: AlertNotice): PostRequest {
  const embed = {
    title: noticeTitle(notice).slice(0, 256),
    description: noticeLines(notice).join('\n').slice(0, 4000),
    ...(notice.link ? { url: notice.link } : {}),
    color: DISCORD_COLOURS[tone(notice)],
    timestamp: new Date(notice.alert.t).toISOString(),
  };
  const body = { username: 'pulseboard', allowed_mentions: { parse: [] }, embeds: [embed] };
  return { url: webhookUrl, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

/** Telegram's Bot API `sendMessage`, in its HTML mode (only `&`, `<`, `>` need escaping). */
export function telegramRequest(apiUrl: URL, token: string, chatId: string, notice: AlertNotice): PostRequest {
  const lines = [`<b>${escapeMarkup(noticeTitle(notice))}</b>`, ...noticeLines(notice).map(escapeMarkup)];
  if (notice.link) lines.push(`<a href="${escapeMarkup(notice.link).replaceAll('"', '&quot;')}">Open the board at that time</a>`);
  // Built as text: resolved as a relative URL, `bot123:ABC/...` would read as a URL of scheme `bot123:`.
  const url = new URL(`${apiUrl.href.replace(/\/$/, '')}/bot${token}/sendMessage`);
  const body = { chat_id: chatId, text: lines.join('\n').slice(0, 4096), parse_mode: 'HTML', disable_web_page_preview: true };
  return { url, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

/** The generic webhook: the `alert` payload as on the stream, with the message's context added. */
export function webhookBody(notice: AlertNotice) {
  return { ...notice.alert, kind: notice.kind, host: notice.host, topOf: notice.topOf, top: notice.top, link: notice.link };
}

/** An email's subject and plain-text body. */
export function emailContent(notice: AlertNotice): { subject: string; text: string } {
  return { subject: `[pulseboard] ${noticeTitle(notice)}`, text: noticeText(notice) };
}
