import type { NetworkSample } from '../../server/protocol.js';
import { formatRate } from '../format.js';
import { el, setText } from '../ui/dom.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

export function networkPanel(context: PanelContext): TopicPanel<'network'> {
  const panel = new Panel('network', 'Network', context);
  panel.addChart(
    [
      { key: 'network.rx', label: 'received', color: '--c1' },
      { key: 'network.tx', label: 'sent', color: '--c2' },
    ],
    { formatY: 'rate' },
    'network throughput over time',
  );
  const list = el('ul', { class: 'list', 'aria-label': 'interfaces' });
  panel.body.append(list);
  return {
    topic: 'network',
    panel,
    show(sample: NetworkSample) {
      panel.setValue(`↓ ${formatRate(sample.rx)}`);
      panel.setDetail(`↑ ${formatRate(sample.tx)}`);
      while (list.children.length > sample.interfaces.length) list.lastElementChild?.remove();
      sample.interfaces.forEach((item, i) => {
        let row = list.children[i];
        if (!row) {
          row = el('li', {}, [el('span', { class: 'name' }), el('span', { class: 'num' })]);
          list.append(row);
        }
        setText(row.children[0] as Element, item.name);
        setText(row.children[1] as Element, `↓ ${formatRate(item.rx)}  ↑ ${formatRate(item.tx)}`);
      });
    },
  };
}
