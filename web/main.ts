import { Board } from './board.js';
import { SharedStream } from './shared-stream.js';
import { Header } from './ui/header.js';
import { StatusPill } from './ui/status-pill.js';

const byId = (id: string) => document.getElementById(id) as HTMLElement;

const board = new Board(byId('board'));
const header = new Header(byId('host'), byId('facts'), byId('uptime'));
const pill = new StatusPill(byId('status'));

// `?share=0` makes this tab hold its own EventSource instead of sharing one across the browser's tabs.
const share = new URLSearchParams(location.search).get('share') !== '0';

const stream = new SharedStream({
  url: 'api/events',
  share,
  onState: (state) => pill.set(state),
  handlers: {
    hello: (hello) => {
      header.show(hello);
      board.configure(hello);
    },
    backfill: (backfill) => board.applyBackfill(backfill),
    health: (health) => board.showHealth(health.collectors),
    cpu: (sample) => board.applySample('cpu', sample),
    memory: (sample) => board.applySample('memory', sample),
    network: (sample) => board.applySample('network', sample),
    disk: (sample) => board.applySample('disk', sample),
    filesystem: (sample) => board.applySample('filesystem', sample),
    temperature: (sample) => board.applySample('temperature', sample),
    process: (sample) => board.applySample('process', sample),
    requests: (sample) => board.applySample('requests', sample),
  },
});
window.addEventListener('online', () => stream.setOnline(true));
window.addEventListener('offline', () => stream.setOnline(false));
stream.start();

// Read-only hooks for the browser tests and for curious operators in the console.
(window as unknown as { __pulseboardDebug: object }).__pulseboardDebug = {
  points: (key: string) => board.points(key),
  times: (key: string) => board.times(key),
  lastEventId: () => stream.lastEventId,
  role: () => stream.currentRole,
};
