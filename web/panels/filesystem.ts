import type { FilesystemSample } from '../../server/protocol.js';
import { formatBytes, formatPercent } from '../format.js';
import { el, setText } from '../ui/dom.js';
import { levelOf, Panel, type PanelContext, type TopicPanel } from '../ui/panel.js';

/** Usage bars per mount; the fullest one is the headline number. */
export function filesystemPanel(context: PanelContext): TopicPanel<'filesystem'> {
  const panel = new Panel('filesystem', 'Filesystems', context);
  const list = el('ul', { class: 'bars', 'aria-label': 'mounts' });
  panel.body.append(list);
  return {
    topic: 'filesystem',
    panel,
    show(sample: FilesystemSample) {
      const percent = (used: number, size: number) => (size > 0 ? (used * 100) / size : 0);
      const fullest = Math.max(0, ...sample.mounts.map((m) => percent(m.used, m.size)));
      panel.setValue(sample.mounts.length > 0 ? formatPercent(fullest) : 'no mounts');
      panel.setLevel('filesystem', fullest);
      panel.setDetail(`${sample.mounts.length} mount${sample.mounts.length === 1 ? '' : 's'} · fullest shown`);
      while (list.children.length > sample.mounts.length) list.lastElementChild?.remove();
      sample.mounts.forEach((mount, i) => {
        let row = list.children[i] as HTMLElement | undefined;
        if (!row) {
          row = el('li', {}, [
            el('span', { class: 'name' }),
            el('span', { class: 'num' }),
            el('span', { class: 'bar' }, [el('span', { class: 'fill' })]),
          ]);
          list.append(row);
        }
        const used = percent(mount.used, mount.size);
        setText(row.children[0] as Element, mount.mount);
        setText(row.children[1] as Element, `${formatBytes(mount.used)} / ${formatBytes(mount.size)} (${formatPercent(used)})`);
        const fill = row.querySelector('.fill') as HTMLElement;
        fill.style.width = `${Math.min(100, used)}%`;
        fill.dataset.level = levelOf(used, context.thresholds().filesystem);
        row.title = `${mount.fs} (${mount.type})`;
      });
    },
  };
}
