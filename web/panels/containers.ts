import type { ContainerInfo, ContainersSample } from '../../server/protocol.js';
import { formatBytes, formatPercent } from '../format.js';
import { el, setText } from '../ui/dom.js';
import { type LevelName, levelOf, Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';
import { Sparkline } from '../ui/sparkline.js';

export type SortKey = 'cpu' | 'memory';
/** Samples each sparkline shows: three minutes at the 5 s cadence. */
export const SPARKLINE_POINTS = 36;

/** Each listed container's recent CPU and memory, for its sparklines; containers no longer listed are forgotten. */
class RecentValues {
  private readonly byId = new Map<string, { t: number; cpu: number[]; memory: number[] }>();

  add(sample: ContainersSample): void {
    const listed = new Set(sample.top.map((c) => c.id));
    for (const id of this.byId.keys()) if (!listed.has(id)) this.byId.delete(id);
    for (const c of sample.top) {
      const recent = this.byId.get(c.id) ?? { t: 0, cpu: [], memory: [] };
      if (sample.t <= recent.t) continue; // the same sample again (a backfill's newest row)
      recent.t = sample.t;
      recent.cpu.push(c.cpu ?? 0);
      recent.memory.push(c.memory ?? 0);
      if (recent.cpu.length > SPARKLINE_POINTS) recent.cpu.shift();
      if (recent.memory.length > SPARKLINE_POINTS) recent.memory.shift();
      this.byId.set(c.id, recent);
    }
  }

  of(id: string): { cpu: number[]; memory: number[] } {
    return this.byId.get(id) ?? { cpu: [], memory: [] };
  }
}

const memoryShare = (c: ContainerInfo) =>
  c.memory !== null && c.memoryLimit !== null && c.memoryLimit > 0 ? (c.memory * 100) / c.memoryLimit : null;

function memoryText(c: ContainerInfo): string {
  if (c.memory === null) return '—';
  const share = memoryShare(c);
  return share === null ? formatBytes(c.memory) : `${formatBytes(c.memory)} / ${formatBytes(c.memoryLimit ?? 0)} (${formatPercent(share)})`;
}

interface Row {
  root: HTMLTableRowElement;
  name: HTMLElement;
  command: HTMLElement;
  cpu: HTMLElement;
  cpuLine: Sparkline;
  memory: HTMLElement;
  memoryLine: Sparkline;
  tasks: HTMLElement;
}

function newRow(): Row {
  const name = el('span', { class: 'name' });
  const command = el('span', { class: 'command' });
  const cpu = el('span', { class: 'num' });
  const memory = el('span', { class: 'num' });
  const tasks = el('td');
  const cpuLine = new Sparkline('CPU over the last minutes');
  const memoryLine = new Sparkline('memory over the last minutes');
  const root = el('tr', {}, [
    el('td', {}, [name, command]),
    el('td', {}, [cpu, cpuLine.root]),
    el('td', { 'data-role': 'memory' }, [memory, memoryLine.root]),
    tasks,
  ]);
  return { root, name, command, cpu, cpuLine, memory, memoryLine, tasks };
}

/**
 * The table's order: by CPU or memory, ties (idle containers) by name. Names are compared by their UTF-16
 * code units, not with `localeCompare`: the first collation in a page sets up ICU's collator, ~20 ms of
 * main thread in the middle of the first paint, for names that are ASCII in practice.
 */
export function containerOrder(sortKey: SortKey, descending: boolean): (a: ContainerInfo, b: ContainerInfo) => number {
  const direction = descending ? 1 : -1;
  return (a, b) => direction * ((b[sortKey] ?? -1) - (a[sortKey] ?? -1)) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * The host's containers: the busiest by CPU and the largest by memory, sortable by either, each with
 * sparklines; a container near its memory limit takes the warning / critical colours of `containerMemory`.
 */
export function containersPanel(context: PanelContext): TopicPanel<'containers'> {
  const panel = new Panel('containers', 'Containers', context);
  const recent = new RecentValues();
  let sortKey: SortKey = 'cpu';
  let descending = true;
  let last: ContainersSample | null = null;
  const rows: Row[] = [];
  const body = el('tbody');
  const sortButton = (key: SortKey, label: string) => {
    const button = el('button', { type: 'button', class: 'sort', 'data-sort': key }, [label]);
    button.addEventListener('click', () => {
      descending = sortKey === key ? !descending : true;
      sortKey = key;
      if (last) render(last);
    });
    return button;
  };
  const cpuHeader = el('th', { 'aria-sort': 'descending' }, [sortButton('cpu', 'CPU')]);
  const memoryHeader = el('th', { 'aria-sort': 'none' }, [sortButton('memory', 'memory')]);
  const table = el('table', { class: 'routes containers', 'aria-label': 'containers' }, [
    el('thead', {}, [el('tr', {}, [el('th', {}, ['container']), cpuHeader, memoryHeader, el('th', {}, ['tasks'])])]),
    body,
  ]);
  panel.body.append(table);

  const render = (sample: ContainersSample) => {
    const sorted = [...sample.top].sort(containerOrder(sortKey, descending));
    cpuHeader.setAttribute('aria-sort', sortKey === 'cpu' ? (descending ? 'descending' : 'ascending') : 'none');
    memoryHeader.setAttribute('aria-sort', sortKey === 'memory' ? (descending ? 'descending' : 'ascending') : 'none');
    while (rows.length > sorted.length) rows.pop()?.root.remove();
    while (rows.length < sorted.length) {
      const row = newRow();
      rows.push(row);
      body.append(row.root);
    }
    sorted.forEach((container, i) => {
      const row = rows[i] as Row;
      const history = recent.of(container.id);
      setText(row.name, container.name);
      setText(row.command, `${container.kind} · ${container.command}`);
      row.command.title = container.command;
      setText(row.cpu, container.cpu === null ? '—' : formatPercent(container.cpu));
      setText(row.memory, memoryText(container));
      setText(row.tasks, String(container.pids));
      row.cpuLine.draw(history.cpu, Math.max(100, ...history.cpu), SPARKLINE_POINTS);
      row.memoryLine.draw(history.memory, container.memoryLimit ?? Math.max(...history.memory, 1), SPARKLINE_POINTS);
      const share = memoryShare(container);
      const level: LevelName = share === null ? 'ok' : levelOf(share, context.thresholds().containerMemory);
      if (row.root.dataset.level !== level) row.root.dataset.level = level;
      row.root.dataset.id = container.id;
      row.root.title = [container.id, container.image ? `image ${container.image}` : ''].filter(Boolean).join(' · ');
    });
  };

  return {
    topic: 'containers',
    panel,
    show(sample: ContainersSample) {
      last = sample;
      recent.add(sample);
      const busiest = sample.top.reduce<ContainerInfo | null>(
        (top, c) => (c.cpu !== null && (top === null || c.cpu > (top.cpu ?? -1)) ? c : top),
        null,
      );
      const closest = sample.closestToLimit;
      panel.setValue(String(sample.count));
      if (closest) panel.setLevel('containerMemory', closest.percent);
      panel.setDetail(
        [
          `container${sample.count === 1 ? '' : 's'}`,
          busiest ? `busiest ${busiest.name} at ${formatPercent(busiest.cpu ?? 0)} of a core` : '',
          closest ? `closest to its memory limit ${closest.name} at ${formatPercent(closest.percent)}` : '',
        ]
          .filter(Boolean)
          .join(' · '),
      );
      render(sample);
    },
  };
}
