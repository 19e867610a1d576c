import type { HistoryStatus, SampleByTopic, Topic } from '../server/protocol.js';
import { Board, LONGEST_WINDOW_MS, TOPICS } from './board.js';
import { startChartWorker } from './charts/chart-surface.js';
import { FleetOverview, fetchFleet } from './fleet.js';
import { formatBytes } from './format.js';
import { enterKiosk, VersionWatch } from './kiosk.js';
import { readPreferences, readRange, savePreference, WINDOWS, windowMs } from './preferences.js';
import { RangeNavigator } from './range-navigator.js';
import { SharedStream } from './shared-stream.js';
import type { Handlers } from './stream.js';
import { applyTheme, onSystemThemeChange } from './theme.js';
import { AlertTimeline } from './ui/alert-timeline.js';
import { AlertCenter } from './ui/alerts.js';
import { el } from './ui/dom.js';
import { Header } from './ui/header.js';
import { StatusPill } from './ui/status-pill.js';
import { Toolbar } from './ui/toolbar.js';

const byId = (id: string) => document.getElementById(id) as HTMLElement;

const preferences = readPreferences();
if (preferences.kiosk) enterKiosk();
let theme = preferences.theme;
applyTheme(theme);

const params = new URLSearchParams(location.search);
const host = params.get('host');

// The server writes its role into the page: a host's own server opens the stream at once. A hub, or a page
// not served by pulseboard (the Vite dev server), asks /api/fleet: a standalone server answers 404.
const role = document.querySelector<HTMLMetaElement>('meta[name="pulseboard-role"]')?.content;
if (host !== null || role === 'host') {
  // Started first, so Chart.js loads in the worker while the stream connects; the fleet overview draws no chart.
  startChartWorker();
  startBoard(host);
} else {
  void fetchFleet().then((fleet) => {
    if (!fleet) return startBoard(null);
    byId('controls').hidden = true;
    byId('alert-log').hidden = true;
    setTextOf('host', 'fleet');
    new FleetOverview(byId('board'), byId('status')).start(fleet);
  });
}

function setTextOf(id: string, text: string): void {
  byId(id).textContent = text;
}

/** A handler for each topic of the protocol (a mapped type over `Topic`), built from the list of topics. */
type SampleHandlers = { [T in Topic]: (sample: SampleByTopic[T]) => void };

function sampleHandlers(apply: <T extends Topic>(topic: T, sample: SampleByTopic[T]) => void): SampleHandlers {
  return Object.fromEntries(
    TOPICS.map((topic) => [topic, (sample: SampleByTopic[typeof topic]) => apply(topic, sample)]),
  ) as SampleHandlers;
}

/** The full board of this server's host, or of one host of a fleet (`?host=`). */
function startBoard(host: string | null): void {
  if (host !== null) byId('host').before(el('a', { class: 'back', href: './', title: 'all hosts' }, ['fleet ›']));
  const board = new Board(
    byId('board'),
    (from, to) => timeline.showRange(from, to),
    (since) => void timeline.fillLive(since),
  );
  board.setWindow(Math.min(LONGEST_WINDOW_MS, windowMs(preferences.window)));
  const header = new Header(byId('host'), byId('facts'), byId('uptime'));
  const pill = new StatusPill(byId('status'));
  const alerts = new AlertCenter(byId('alert-banner'), byId('alert-log'), host === null);
  const versions = new VersionWatch();
  // Alert history is the host's own server's: a fleet hub's host view has none.
  const timelineRoot = byId('alert-timeline');
  const firing = host === null ? new AlertTimeline(timelineRoot, () => board.visibleRange()) : null;
  if (firing) board.showFiring(() => firing.spans());

  const toolbar = new Toolbar(byId('controls'), {
    onWindow(label) {
      savePreference('window', label);
      timeline.showWindow(label);
    },
    onShift: (direction) => timeline.shift(direction),
    onLive: () => timeline.live(),
    onPause: (paused) => board.setPaused(paused),
    onTheme(choice) {
      theme = choice;
      applyTheme(choice);
      board.recolor();
      savePreference('theme', choice);
    },
    onNotify() {
      void AlertCenter.askPermission().then(() => toolbar.showNotify(AlertCenter.canAsk()));
    },
  });
  const timeline = new RangeNavigator(board, toolbar, host, preferences.window);
  toolbar.setWindow(preferences.window);
  toolbar.setTheme(theme);
  const footer = byId('history-footer');
  toolbar.showNotify(AlertCenter.canAsk());
  onSystemThemeChange(() => {
    if (theme !== 'auto') return;
    applyTheme('auto');
    board.recolor();
  });

  let placed = false;

  // `?share=0` makes this tab hold its own EventSource instead of sharing one across the browser's tabs.
  const share = params.get('share') !== '0';

  const stream = new SharedStream({
    url: host === null ? 'api/events' : `api/events?host=${encodeURIComponent(host)}`,
    share,
    onState: (state) => pill.set(state),
    handlers: {
      hello: (hello) => {
        versions.seen(hello.version);
        header.show(hello);
        board.configure(hello);
        toolbar.limitWindows(hello.historyMs, Math.max(hello.historyMs, hello.history?.retention['1h'] ?? 0), LONGEST_WINDOW_MS, WINDOWS);
        showHistoryUse(footer, hello.history);
        alerts.showChannels(hello.alertChannels ?? []);
        // After the charts' first picture: its request, answer and rows would compete with it on a small CPU.
        if (firing) {
          void board
            .firstPicture()
            .then(() => firing.load(Math.max(hello.historyMs, hello.history?.retention['1m'] ?? 0)))
            .then(
              () => {
                timelineRoot.hidden = false;
                // The charts drew without the spans: once more with them, if any.
                if (firing.spans().length > 0) board.showFiring(() => firing.spans());
              },
              () => (timelineRoot.hidden = true),
            );
        }
        // The first hello places the charts in time: the shared range, or the window chosen. Both as they are
        // now: the toolbar works before the hello, and a window clicked meanwhile has replaced the URL's.
        if (!placed) {
          placed = true;
          const shared = readRange();
          if (shared) timeline.showRange(shared.from, shared.to);
          else timeline.live();
        }
      },
      backfill: (backfill) => {
        board.applyBackfill(backfill);
        alerts.replaceActive(backfill.alerts);
        alerts.replaceSilences(backfill.silences ?? []);
      },
      health: (health) => {
        board.showHealth(health.collectors);
        if (health.history) showHistoryUse(footer, health.history);
        if (health.channels) alerts.showChannels(health.channels);
      },
      alert: (change) => {
        alerts.apply(change);
        firing?.apply(change);
      },
      silence: (silence) => alerts.applySilence(silence),
      ...sampleHandlers((topic, sample) => board.applySample(topic, sample)),
      // Every event of the protocol has a handler here: one left out fails to compile.
    } satisfies Required<Handlers>,
  });
  window.addEventListener('online', () => stream.setOnline(true));
  window.addEventListener('offline', () => stream.setOnline(false));
  stream.start();

  // Read-only hooks for the browser tests and for curious operators in the console.
  (window as unknown as { __pulseboardDebug: object }).__pulseboardDebug = {
    points: (key: string) => board.points(key),
    times: (key: string) => board.times(key),
    chartColors: () => board.chartColors(),
    chartPoints: () => board.chartPoints(),
    visibleRange: () => board.visibleRange(),
    shownRange: () => board.shown(),
    chartGaps: () => board.chartGaps(),
    firingSpans: () => firing?.spans() ?? [],
    chartBandPoints: () => board.chartBandPoints(),
    chartDraws: () => board.chartDraws(),
    chartColumns: () => board.chartColumns(),
    chartRanges: () => board.chartRanges(),
    chartPointAt: (t: number) => board.chartPointAt(t),
    chartsDrawnIn: () => board.chartsDrawnIn(),
    chartSnapshots: () => board.chartSnapshots(),
    chartSnapshot: (index: number) => board.chartSnapshot(index),
    activeAlerts: () => alerts.activeRules(),
    counters: () => ({ ...board.counters }),
    lastEventId: () => stream.lastEventId,
    role: () => stream.currentRole,
  };
}

/** The footer line: how much disk the durable history takes, and whether it is being written. */
function showHistoryUse(footer: HTMLElement, history: HistoryStatus | undefined): void {
  if (!history) {
    footer.textContent = '';
    return;
  }
  const kept =
    history.dir === null
      ? `memory only, ${formatSpan(history.retention.raw)}`
      : `${formatBytes(history.bytes)} on disk in ${history.dir} (raw ${formatSpan(history.retention.raw)} · 1m ${formatSpan(history.retention['1m'])} · 10m ${formatSpan(history.retention['10m'])} · 1h ${formatSpan(history.retention['1h'])})`;
  footer.textContent = `history: ${kept}${history.error ? ` — not being written: ${history.error}` : ''}`;
  footer.dataset.writing = String(history.writing);
}

function formatSpan(ms: number): string {
  if (ms % (365 * 86_400_000) === 0) return `${ms / (365 * 86_400_000)}y`;
  if (ms % 86_400_000 === 0 && ms >= 2 * 86_400_000) return `${ms / 86_400_000}d`;
  return `${Math.round(ms / 3_600_000)}h`;
}
