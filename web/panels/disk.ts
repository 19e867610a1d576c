import type { DiskSample } from '../../server/protocol.js';
import { formatRate } from '../format.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

export function diskPanel(context: PanelContext): TopicPanel<'disk'> {
  const panel = new Panel('disk', 'Disk I/O', context);
  panel.addChart(
    [
      { key: 'disk.read', label: 'read', color: '--c1' },
      { key: 'disk.write', label: 'write', color: '--c2' },
    ],
    { formatY: 'rate' },
    'disk throughput over time',
  );
  return {
    topic: 'disk',
    panel,
    show(sample: DiskSample) {
      panel.setValue(`W ${formatRate(sample.write)}`);
      panel.setDetail(`R ${formatRate(sample.read)}`);
    },
  };
}
