import type { AlertPayload, ContainersSample, ProcessesSample } from '../protocol.js';
import { unitOf } from './engine.js';

/** Why a message is sent: a change of state, a reminder while firing, or a test from the page or the CLI. */
export type NoticeKind = 'firing' | 'resolved' | 'repeat' | 'test';

/** One line of the "top 3" list: a process or a container at the moment of the alert. */
export interface TopEntry {
  name: string;
  /** `85 % CPU, 1.2 GiB`. */
  usage: string;
}

/** Everything a channel's message says, built once per alert change and shared by every channel. */
export interface AlertNotice {
  kind: NoticeKind;
  alert: AlertPayload;
  /** The host's name. */
  host: string;
  /** What `top` lists. */
  topOf: 'processes' | 'containers';
  /** Up to three, the busiest first; empty when the host has no sample of them yet. */
  top: TopEntry[];
  /** The board at the alert's time range, or null without a public URL. */
  link: string | null;
}

/** The board opens this much before the alert began, so the rise shows. */
const LINK_LEAD_MS = 15 * 60_000;
/** ...and this much after the change. */
const LINK_TAIL_MS = 5 * 60_000;

/** `<base>/?from=&to=`: the board over the alert's time range. */
export function boardLink(publicUrl: URL | null, alert: AlertPayload): string | null {
  if (!publicUrl) return null;
  const url = new URL(publicUrl);
  const start = alert.state === 'resolved' ? Math.min(alert.since, alert.t) : alert.since;
  url.searchParams.set('from', String(start - LINK_LEAD_MS));
  url.searchParams.set('to', String(alert.t + LINK_TAIL_MS));
  return url.toString();
}

/** The top 3 processes, by memory for a memory alert, else by CPU. */
export function topProcesses(sample: ProcessesSample | null, byMemory: boolean): TopEntry[] {
  if (!sample) return [];
  const sorted = [...sample.top].sort((a, b) => (byMemory ? b.rss - a.rss : b.cpu - a.cpu));
  return sorted.slice(0, 3).map((p) => ({
    name: `${p.name} (pid ${p.pid}${p.container ? `, ${p.container}` : ''})`,
    usage: `${round(p.cpu)} % CPU, ${bytes(p.rss)}`,
  }));
}

/** The top 3 containers by memory share of their limit, then by memory. */
export function topContainers(sample: ContainersSample | null): TopEntry[] {
  if (!sample) return [];
  const share = (c: ContainersSample['top'][number]) => (c.memory !== null && c.memoryLimit ? c.memory / c.memoryLimit : -1);
  const sorted = [...sample.top].sort((a, b) => share(b) - share(a) || (b.memory ?? 0) - (a.memory ?? 0));
  return sorted.slice(0, 3).map((c) => {
    const memory = c.memory === null ? 'memory unknown' : bytes(c.memory);
    const limit = c.memoryLimit ? ` of ${bytes(c.memoryLimit)}` : '';
    return { name: c.name, usage: `${c.cpu === null ? '–' : round(c.cpu)} % CPU, ${memory}${limit}` };
  });
}

/** `CRITICAL: cpu-busy on web-1`, `RESOLVED: cpu-busy on web-1`, `REMINDER: ...`, `TEST: ...`. */
export function noticeTitle(notice: AlertNotice): string {
  const { alert, host } = notice;
  const state =
    notice.kind === 'test'
      ? 'TEST'
      : notice.kind === 'resolved'
        ? 'RESOLVED'
        : notice.kind === 'repeat'
          ? `STILL ${alert.severity.toUpperCase()}`
          : alert.severity.toUpperCase();
  return `${state}: ${alert.rule} on ${host}`;
}

/** The body as plain lines: what happened, value vs threshold, since when, the top 3, the link. */
export function noticeLines(notice: AlertNotice): string[] {
  const { alert } = notice;
  const lines = [alert.message];
  if (notice.kind === 'test') lines.push('This is a test message from pulseboard: the channel works.');
  const unit = unitOf(alert.metric);
  lines.push(`${round(alert.value)}${unit} vs threshold ${alert.threshold}${unit}`);
  const since = alert.state === 'resolved' ? 'resolved at' : 'firing since';
  lines.push(`${since} ${utc(alert.since)}`);
  if (notice.top.length > 0) {
    lines.push(`top ${notice.topOf} then:`);
    for (const [i, entry] of notice.top.entries()) lines.push(`${i + 1}. ${entry.name}: ${entry.usage}`);
  }
  return lines;
}

/** The whole message as plain text, link last: email, ntfy, and the other channels' fallback text. */
export function noticeText(notice: AlertNotice): string {
  const lines = noticeLines(notice);
  if (notice.link) lines.push(notice.link);
  return lines.join('\n');
}

/** `2026-11-26 04:50:00 UTC`. */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${unit === 0 ? n : n.toFixed(1)} ${units[unit]}`;
}
