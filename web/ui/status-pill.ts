import type { ConnectionState } from '../stream.js';
import { setText } from './dom.js';

/** The words for a state; `now` lets the countdown tick. */
export function describeState(state: ConnectionState, now: number): string {
  switch (state.kind) {
    case 'live':
      return 'live';
    case 'connecting':
      return 'connecting';
    case 'offline':
      return 'offline';
    case 'stale':
      return `stale (no data for ${Math.round(state.silentMs / 1000)} s)`;
    case 'reconnecting':
      return `reconnecting (attempt ${state.attempt}, next in ${Math.max(0, Math.ceil((state.nextAt - now) / 1000))} s)`;
  }
}

/** Always visible, announced politely to screen readers, `data-state` for styles and tests. */
export class StatusPill {
  private state: ConnectionState = { kind: 'connecting' };

  constructor(private readonly element: HTMLElement) {
    setInterval(() => this.render(), 1000);
    this.render();
  }

  set(state: ConnectionState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    this.element.dataset.state = this.state.kind;
    setText(this.element, describeState(this.state, Date.now()));
  }
}
