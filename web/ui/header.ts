import type { HelloPayload } from '../../server/protocol.js';
import { formatBytes, formatDuration } from '../format.js';
import { setText } from './dom.js';

/** Host name, OS, CPU and memory from `hello`; the host uptime keeps ticking between hellos. */
export class Header {
  private uptimeAt: { seconds: number; at: number } | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly facts: HTMLElement,
    private readonly uptime: HTMLElement,
  ) {
    setInterval(() => this.renderUptime(), 1000);
  }

  show(hello: HelloPayload): void {
    const { host } = hello;
    setText(this.host, host.hostname);
    document.title = `${host.hostname} · pulseboard`;
    setText(
      this.facts,
      `${host.os} · ${host.cpuModel} · ${host.cores} cores · ${formatBytes(host.memTotal)} · pulseboard ${hello.version}`,
    );
    this.uptimeAt = { seconds: host.uptime, at: Date.now() };
    this.renderUptime();
  }

  private renderUptime(): void {
    if (!this.uptimeAt) return;
    const seconds = this.uptimeAt.seconds + (Date.now() - this.uptimeAt.at) / 1000;
    setText(this.uptime, `up ${formatDuration(seconds)}`);
  }
}
