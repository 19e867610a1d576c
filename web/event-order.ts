import type { HelloPayload } from '../server/protocol.js';

/**
 * Which events have been applied, by boot and sequence number: an event whose id is not newer than the
 * last applied one of the same boot is a repeat (a resume overlap, or a second copy from another tab).
 */
export class EventOrder {
  private bootId: string | null = null;
  private lastSeq = -1;
  lastId: string | null = null;

  /** A fresh or reset hello starts the count again; a resume keeps it. */
  hello(hello: Pick<HelloPayload, 'bootId' | 'mode'>): void {
    if (hello.bootId !== this.bootId || hello.mode !== 'resume') {
      this.bootId = hello.bootId;
      this.lastSeq = -1;
    }
  }

  /** True when the event with this id should be applied (and records it). Events without id always pass. */
  accept(id: string): boolean {
    if (!id) return true;
    const dash = id.lastIndexOf('-');
    const bootId = id.slice(0, dash);
    const seq = Number(id.slice(dash + 1));
    if (bootId === this.bootId && seq <= this.lastSeq) return false;
    this.bootId = bootId;
    this.lastSeq = seq;
    this.lastId = id;
    return true;
  }
}
