import type { MemorySample } from '../../server/protocol.js';
import { formatBytes, formatPercent } from '../format.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

export function memoryPanel(context: PanelContext): TopicPanel<'memory'> {
  const panel = new Panel('memory', 'Memory', context);
  let total = 0;
  panel.addChart(
    [
      { key: 'memory.used', label: 'used', color: '--c1', fill: true },
      { key: 'memory.cached', label: 'cache', color: '--c4' },
      { key: 'memory.swapUsed', label: 'swap', color: '--c3' },
    ],
    { formatY: 'bytes', bands: panel.bandsOf('memory', () => total / 100) },
    'memory over time',
  );
  return {
    topic: 'memory',
    panel,
    show(sample: MemorySample) {
      total = sample.total;
      const usedPercent = sample.total > 0 ? (sample.used * 100) / sample.total : 0;
      panel.setValue(formatPercent(usedPercent));
      panel.setLevel('memory', usedPercent);
      const swap = sample.swapTotal > 0 ? ` · swap ${formatBytes(sample.swapUsed)} of ${formatBytes(sample.swapTotal)}` : '';
      panel.setDetail(`${formatBytes(sample.used)} of ${formatBytes(sample.total)} · cache ${formatBytes(sample.cached)}${swap}`);
    },
  };
}
