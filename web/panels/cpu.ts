import type { CpuSample } from '../../server/protocol.js';
import { formatPercent } from '../format.js';
import { el } from '../ui/dom.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

/** CPU: total in large type, user/system/iowait over time, one small bar per core, load averages. */
export function cpuPanel(context: PanelContext): TopicPanel<'cpu'> {
  const panel = new Panel('cpu', 'CPU', context);
  panel.addChart(
    [
      { key: 'cpu.user', label: 'user', color: '--c1', fill: true },
      { key: 'cpu.system', label: 'system', color: '--c2', fill: true },
      { key: 'cpu.iowait', label: 'iowait', color: '--c3', fill: true },
    ],
    { formatY: 'percent', stacked: true, yMax: 100, bands: panel.bandsOf('cpu') },
    'CPU use over time',
  );
  const cores = el('div', { class: 'cores', 'aria-label': 'use per core' });
  panel.body.append(cores);
  const bars: HTMLElement[] = [];
  return {
    topic: 'cpu',
    panel,
    show(sample: CpuSample) {
      panel.setValue(formatPercent(sample.total));
      panel.setLevel('cpu', sample.total);
      panel.setDetail(`load ${sample.load.map((n) => n.toFixed(2)).join(' / ')}`);
      const shown = bars.length;
      while (bars.length < sample.cores.length) {
        const bar = el('span', { class: 'core' }, [el('span', { class: 'fill' })]);
        bars.push(bar);
        cores.append(bar);
      }
      while (bars.length > sample.cores.length) bars.pop()?.remove();
      if (bars.length !== shown) cores.style.setProperty('--cores', String(bars.length));
      sample.cores.forEach((percent, i) => {
        const bar = bars[i] as HTMLElement;
        (bar.firstElementChild as HTMLElement).style.height = `${Math.min(100, percent)}%`;
        bar.title = `core ${i}: ${formatPercent(percent)}`;
      });
    },
  };
}
