import type { TemperatureSample } from '../../server/protocol.js';
import { celsius } from '../charts/formatters.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

export function temperaturePanel(context: PanelContext): TopicPanel<'temperature'> {
  const panel = new Panel('temperature', 'Temperature', context);
  panel.addChart(
    [
      { key: 'temperature.main', label: 'main', color: '--c1' },
      { key: 'temperature.max', label: 'hottest', color: '--c3' },
    ],
    { formatY: 'celsius', bands: panel.bandsOf('temperature') },
    'temperature over time',
  );
  return {
    topic: 'temperature',
    panel,
    show(sample: TemperatureSample) {
      panel.setValue(celsius(sample.main));
      panel.setLevel('temperature', sample.main);
      panel.setDetail(`hottest ${celsius(sample.max)} · ${sample.sensors.length} sensor${sample.sensors.length === 1 ? '' : 's'}`);
    },
  };
}
