import type { FleetHost, FleetStatus } from '../server/protocol.js';
import { formatBytes, formatClock, formatDuration, formatPercent } from './format.js';
import { el, setText } from './ui/dom.js';

/** How often the overview asks the hub for the fleet's state. */
export const FLEET_POLL_MS = 2000;

interface Tile {
  root: HTMLAnchorElement;
  state: HTMLElement;
  cpu: HTMLElement;
  memory: HTMLElement;
  seen: HTMLElement;
  note: HTMLElement;
}

/**
 * The fleet overview of a hub (`--redis`): one tile per host with CPU, memory, its state and when it was
 * last heard from; a tile opens that host's full board (`?host=`). The pill tells the state of the hub and
 * of its link to Redis.
 */
export class FleetOverview {
  private readonly tiles = new Map<string, Tile>();
  private last: FleetStatus | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly pill: HTMLElement,
  ) {
    container.classList.add('fleet');
    container.setAttribute('aria-label', 'hosts');
    setInterval(() => this.renderAges(), 1000);
  }

  /** Polls the hub until the page closes. */
  start(first: FleetStatus): void {
    this.render(first);
    setInterval(() => void this.poll(), FLEET_POLL_MS);
  }

  render(status: FleetStatus): void {
    this.last = status;
    document.title = `fleet (${status.hosts.length}) · pulseboard`;
    for (const host of status.hosts) this.renderTile(host);
    for (const [name, tile] of this.tiles) {
      if (!status.hosts.some((host) => host.name === name)) {
        tile.root.remove();
        this.tiles.delete(name);
      }
    }
    if (status.redis.ok) this.setPill('live', `live · ${status.hosts.length} hosts`);
    else this.setPill('stale', `Redis unreachable since ${formatClock(status.redis.since)}: last known state`);
    this.renderAges();
  }

  private async poll(): Promise<void> {
    try {
      const response = await fetch('api/fleet', { cache: 'no-store' });
      if (!response.ok) throw new Error(String(response.status));
      this.render((await response.json()) as FleetStatus);
    } catch {
      this.setPill('offline', 'hub unreachable: retrying');
    }
  }

  private renderTile(host: FleetHost): void {
    let tile = this.tiles.get(host.name);
    if (!tile) {
      tile = {
        root: el('a', { class: 'tile', href: `?host=${encodeURIComponent(host.name)}`, 'data-host': host.name }),
        state: el('span', { class: 'tile-state' }),
        cpu: el('span', { class: 'value' }),
        memory: el('span', { class: 'value' }),
        seen: el('span', { class: 'tile-seen' }),
        note: el('p', { class: 'tile-note' }),
      };
      tile.root.append(
        el('div', { class: 'tile-head' }, [el('h2', {}, [host.name]), tile.state]),
        el('p', { class: 'facts' }, [`${host.hostname} · ${host.os}`]),
        el('div', { class: 'tile-figures' }, [
          el('div', {}, [el('span', { class: 'label' }, ['CPU']), tile.cpu]),
          el('div', {}, [el('span', { class: 'label' }, ['memory']), tile.memory]),
        ]),
        tile.seen,
        tile.note,
      );
      this.tiles.set(host.name, tile);
      this.container.append(tile.root);
    }
    const state = host.stale ? 'stale' : host.alerts.length > 0 || host.failing.length > 0 ? 'warning' : 'ok';
    tile.root.dataset.state = state;
    setText(tile.state, host.stale ? 'stale' : state === 'warning' ? 'attention' : 'ok');
    setText(tile.cpu, host.cpu === null ? '–' : formatPercent(host.cpu));
    setText(
      tile.memory,
      host.memory ? `${formatPercent((host.memory.used * 100) / host.memory.total)} of ${formatBytes(host.memory.total)}` : '–',
    );
    const notes = [
      ...host.alerts.map((alert) => `${alert.severity}: ${alert.message}`),
      ...(host.failing.length > 0 ? [`failing: ${host.failing.join(', ')}`] : []),
    ];
    setText(tile.note, notes.join(' · '));
  }

  /** "seen 3 s ago" keeps counting between polls, so a stopped hub cannot freeze a fresh-looking age. */
  private renderAges(): void {
    if (!this.last) return;
    for (const host of this.last.hosts) {
      const tile = this.tiles.get(host.name);
      if (!tile) continue;
      const age = host.lastSeen === null ? null : Math.max(0, (Date.now() - host.lastSeen) / 1000);
      setText(tile.seen, age === null ? 'never heard from' : `seen ${formatDuration(age)} ago`);
    }
  }

  private setPill(state: string, text: string): void {
    this.pill.dataset.state = state;
    setText(this.pill, text);
  }
}

/** The hub's fleet, or null on a standalone server (which has no `/api/fleet`). */
export async function fetchFleet(): Promise<FleetStatus | null> {
  try {
    const response = await fetch('api/fleet', { cache: 'no-store' });
    return response.ok ? ((await response.json()) as FleetStatus) : null;
  } catch {
    return null;
  }
}
