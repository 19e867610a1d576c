import type { ContainerInfo, ContainersSample } from '../../server/protocol.js';
import { formatBytes, formatPercent } from '../format.js';
import { el, setText } from '../ui/dom.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

const COLUMNS = ['container', 'kind', 'CPU', 'memory', 'tasks'];

const memoryText = (c: ContainerInfo) =>
  c.memory === null ? '—' : c.memoryLimit === null ? formatBytes(c.memory) : `${formatBytes(c.memory)} / ${formatBytes(c.memoryLimit)}`;

/** The host's containers (cgroups holding processes): the busiest by CPU, then the largest by memory. */
export function containersPanel(context: PanelContext): TopicPanel<'containers'> {
  const panel = new Panel('containers', 'Containers', context);
  const rows = el('tbody');
  const table = el('table', { class: 'routes containers', 'aria-label': 'containers' }, [
    el('thead', {}, [
      el(
        'tr',
        {},
        COLUMNS.map((name) => el('th', {}, [name])),
      ),
    ]),
    rows,
  ]);
  panel.body.append(table);

  const render = (sample: ContainersSample) => {
    while (rows.children.length > sample.top.length) rows.lastElementChild?.remove();
    sample.top.forEach((container, i) => {
      let row = rows.children[i];
      if (!row) {
        row = el(
          'tr',
          {},
          COLUMNS.map(() => el('td')),
        );
        rows.append(row);
      }
      const cells = [
        container.name,
        container.kind,
        container.cpu === null ? '—' : formatPercent(container.cpu),
        memoryText(container),
        String(container.pids),
      ];
      cells.forEach((text, j) => {
        setText(row?.children[j] as Element, text);
      });
      (row as HTMLElement).title = `${container.id} · ${container.command}`;
    });
  };

  return {
    topic: 'containers',
    panel,
    show(sample: ContainersSample) {
      const busiest = sample.top[0];
      panel.setValue(String(sample.count));
      panel.setDetail(
        busiest?.cpu != null ? `containers · busiest ${busiest.name} at ${formatPercent(busiest.cpu)} of a core` : 'containers',
      );
      render(sample);
    },
  };
}
