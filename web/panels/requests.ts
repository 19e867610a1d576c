import type { RequestsSample, TrafficSource } from '../../server/protocol.js';
import { perSecond } from '../charts/formatters.js';
import { formatMs } from '../format.js';
import { el, setText } from '../ui/dom.js';
import { Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

const SOURCE_LABEL: Record<TrafficSource, string> = {
  self: "this dashboard's own routes",
  embedded: 'the app this dashboard is embedded in',
  proxy: 'traffic through the reverse proxy',
  'access-log': 'the access log',
};

/** What the panel's numbers are of: an access-log source names its files. */
export function sourceText(sample: Pick<RequestsSample, 'source' | 'logs'>): string {
  const logs = sample.logs ?? [];
  if (sample.source === 'access-log' && logs.length > 0) return `measuring the access log${logs.length > 1 ? 's' : ''} ${logs.join(', ')}`;
  return `measuring ${SOURCE_LABEL[sample.source]}`;
}

/** HTTP traffic: rate by status class (stacked), latency percentiles, in-flight, the busiest and slowest routes. */
export function requestsPanel(context: PanelContext): TopicPanel<'requests'> {
  const panel = new Panel('requests', 'HTTP requests', context);
  const source = el('div', { class: 'source', 'data-role': 'source' });
  panel.body.append(source);
  panel.addChart(
    [
      { key: 'requests.2xx', label: 'ok', color: '--c1', fill: true },
      { key: 'requests.4xx', label: '4xx', color: '--c4', fill: true },
      { key: 'requests.5xx', label: '5xx / aborted', color: '--c3', fill: true },
    ],
    { formatY: 'perSecond', stacked: true },
    'request rate by status class over time',
  );
  panel.addChart(
    [
      { key: 'requests.p50', label: 'p50', color: '--c1' },
      { key: 'requests.p90', label: 'p90', color: '--c2' },
      { key: 'requests.p99', label: 'p99', color: '--c3' },
    ],
    { formatY: 'ms' },
    'request latency over time',
  );
  const rows = el('tbody');
  const table = el('table', { class: 'routes', 'aria-label': 'top routes' }, [
    el('thead', {}, [
      el(
        'tr',
        {},
        ['route', 'count', 'errors', 'p50', 'p99'].map((name) => el('th', {}, [name])),
      ),
    ]),
    rows,
  ]);
  panel.body.append(table);
  return {
    topic: 'requests',
    panel,
    show(sample: RequestsSample) {
      panel.setValue(perSecond(sample.rate));
      const errors = sample.window.count > 0 ? (sample.window.errors * 100) / sample.window.count : 0;
      panel.setLevel('errors', errors);
      panel.setDetail(
        `${sample.inFlight} in flight · p99 ${formatMs(sample.latency.p99)} · last ${sample.window.ms / 1000}s: ${sample.window.count} requests, ${errors.toFixed(1)} % errors`,
      );
      setText(source, sourceText(sample));
      while (rows.children.length > sample.routes.length) rows.lastElementChild?.remove();
      sample.routes.forEach((route, i) => {
        let row = rows.children[i];
        if (!row) {
          row = el(
            'tr',
            {},
            Array.from({ length: 5 }, () => el('td')),
          );
          rows.append(row);
        }
        const cells = [route.route, String(route.count), String(route.errors), formatMs(route.latency.p50), formatMs(route.latency.p99)];
        cells.forEach((text, j) => {
          setText(row?.children[j] as Element, text);
        });
      });
    },
  };
}
