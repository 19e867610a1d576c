import type { SilencePayload } from '../protocol.js';

/**
 * Silenced rules and until when. A silenced alert still fires, resolves and shows on the page; it sends
 * nothing to any channel until its silence ends. Expiry is read from the clock, so nothing needs a timer.
 */
export class Silences {
  private readonly until = new Map<string, number>();

  /** Silences `rule` until `until` (ms since epoch), or lifts its silence with null. */
  set(rule: string, until: number | null, now: number): SilencePayload {
    if (until === null) this.until.delete(rule);
    else this.until.set(rule, until);
    return { t: now, rule, until };
  }

  isSilenced(rule: string, now: number): boolean {
    const until = this.until.get(rule);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(rule);
    return false;
  }

  /** Silences not yet over, for a page that just opened. */
  active(now: number): SilencePayload[] {
    const silences: SilencePayload[] = [];
    for (const [rule, until] of this.until) if (until > now) silences.push({ t: now, rule, until });
    return silences;
  }
}
