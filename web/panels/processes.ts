import type { ProcessesSample, ProcessInfo } from '../../server/protocol.js';
import { formatBytes, formatPercent } from '../format.js';
import { el, setText } from '../ui/dom.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

type Ranking = 'cpu' | 'rss';

const COLUMNS = ['process', 'user', 'container', 'pid', 'CPU', 'memory'];

/** The host's top processes as a table, ranked by CPU or by memory (a toggle; the server sends both). */
export function processesPanel(context: PanelContext): TopicPanel<'processes'> {
  const panel = new Panel('processes', 'Top processes', context);
  let ranking: Ranking = 'cpu';
  let last: ProcessesSample | null = null;
  const toggle = el('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false' }, ['rank by memory']);
  const rows = el('tbody');
  const table = el('table', { class: 'routes processes', 'aria-label': 'top processes' }, [
    el('thead', {}, [
      el(
        'tr',
        {},
        COLUMNS.map((name) => el('th', {}, [name])),
      ),
    ]),
    rows,
  ]);
  panel.body.append(toggle, table);

  const render = (sample: ProcessesSample) => {
    const key = ranking;
    const sorted = [...sample.top].sort((a: ProcessInfo, b: ProcessInfo) => b[key] - a[key]);
    while (rows.children.length > sorted.length) rows.lastElementChild?.remove();
    sorted.forEach((process, i) => {
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
        process.name,
        process.user,
        process.container ?? '—',
        String(process.pid),
        formatPercent(process.cpu),
        formatBytes(process.rss),
      ];
      cells.forEach((text, j) => {
        const cell = row?.children[j] as HTMLElement | undefined;
        if (!cell) return;
        setText(cell, text);
        // Long names are cut with an ellipsis in the cell; the whole of it shows on hover.
        if (j < 3 && cell.title !== text) cell.title = text;
      });
    });
  };
  toggle.addEventListener('click', () => {
    ranking = ranking === 'cpu' ? 'rss' : 'cpu';
    toggle.setAttribute('aria-pressed', String(ranking === 'rss'));
    setText(toggle, ranking === 'cpu' ? 'rank by memory' : 'rank by CPU');
    if (last) render(last);
  });

  return {
    topic: 'processes',
    panel,
    show(sample: ProcessesSample) {
      last = sample;
      const busiest = sample.top.reduce((top, p) => (p.cpu > top.cpu ? p : top), sample.top[0] ?? { name: '—', cpu: 0 });
      panel.setValue(String(sample.count));
      panel.setDetail(`processes · busiest ${busiest.name} at ${formatPercent(busiest.cpu)} of a core`);
      render(sample);
    },
  };
}
