import type { ProcessSample } from '../../server/protocol.js';
import { formatBytes, formatDuration, formatMs, formatPercent } from '../format.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

/** " · loop busy 3.1 %", or nothing from a server that does not send it (a hub relaying an older agent). */
function loopBusyText(sample: ProcessSample): string {
  return sample.loopBusy === undefined ? '' : ` · loop busy ${formatPercent(sample.loopBusy)}`;
}

/** The pulseboard server process itself: is the monitor light on its host? */
export function processPanel(context: PanelContext): TopicPanel<'process'> {
  const panel = new Panel('process', 'pulseboard process', context);
  panel.addChart(
    [
      { key: 'process.lagP50', label: 'loop lag p50', color: '--c1' },
      { key: 'process.lagP99', label: 'loop lag p99', color: '--c3' },
    ],
    { formatY: 'ms', bands: panel.bandsOf('lag') },
    'event-loop lag over time',
  );
  return {
    topic: 'process',
    panel,
    show(sample: ProcessSample) {
      panel.setValue(formatBytes(sample.rss));
      panel.setDetail(
        `heap ${formatBytes(sample.heapUsed)} / ${formatBytes(sample.heapTotal)} · cpu ${formatPercent(sample.cpu)} · lag p99 ${formatMs(sample.lagP99)}${loopBusyText(sample)} · up ${formatDuration(sample.uptime)}`,
      );
    },
  };
}
