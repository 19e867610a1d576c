/** Seconds a refused client is told to wait: long enough to let a crowd drain, short for a wall screen. */
export const RETRY_AFTER_SECONDS = 10;

export type Admission = { ok: true; release: () => void } | { ok: false; status: 429 | 503; error: string; retryAfterSeconds: number };

/**
 * Caps concurrent event streams in all and per client address, so one misbehaving screen (or script)
 * cannot take every slot. Each admitted stream must call its `release` once, when it closes.
 */
export class StreamLimits {
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly maxStreams: number,
    private readonly maxPerClient: number,
  ) {}

  admit(clientAddress: string): Admission {
    const fromClient = this.perClient.get(clientAddress) ?? 0;
    if (this.total >= this.maxStreams) {
      return {
        ok: false,
        status: 503,
        error: `the server holds its maximum of ${this.maxStreams} streams`,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      };
    }
    if (fromClient >= this.maxPerClient) {
      return {
        ok: false,
        status: 429,
        error: `this address already holds ${fromClient} streams, the maximum per client`,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      };
    }
    this.total++;
    this.perClient.set(clientAddress, fromClient + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perClient.get(clientAddress) ?? 1) - 1;
        if (left === 0) this.perClient.delete(clientAddress);
        else this.perClient.set(clientAddress, left);
      },
    };
  }

  /** Addresses currently holding a stream (the churn test checks it drains to zero). */
  get clients(): number {
    return this.perClient.size;
  }
}
