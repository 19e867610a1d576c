import { THEMES, type ThemeChoice, WINDOWS, type WindowLabel } from '../preferences.js';
import { el, setText } from './dom.js';

export interface ToolbarHandlers {
  onWindow(label: WindowLabel): void;
  /** Back (-1) or forward (+1) in time by half the range shown. */
  onShift(direction: -1 | 1): void;
  /** Back to the live window. */
  onLive(): void;
  onPause(paused: boolean): void;
  onTheme(theme: ThemeChoice): void;
  onNotify(): void;
}

/** Window, pause, theme and notification controls. Hidden in kiosk mode, where nobody touches the screen. */
export class Toolbar {
  private readonly windowButtons = new Map<WindowLabel, HTMLButtonElement>();
  private readonly pauseButton: HTMLButtonElement;
  private readonly themeButton: HTMLButtonElement;
  private readonly notifyButton: HTMLButtonElement;
  private readonly liveButton: HTMLButtonElement;
  private readonly forwardButton: HTMLButtonElement;
  private readonly rangeLabel: HTMLElement;
  private paused = false;
  private theme: ThemeChoice = 'auto';

  constructor(container: HTMLElement, handlers: ToolbarHandlers) {
    const windows = el('div', { class: 'segmented', role: 'group', 'aria-label': 'time window' });
    for (const { label } of WINDOWS) {
      const button = el('button', { type: 'button', 'data-window': label, 'aria-pressed': 'false' }, [label]);
      button.addEventListener('click', () => handlers.onWindow(label));
      this.windowButtons.set(label, button);
      windows.append(button);
    }
    const back = el('button', { type: 'button', 'data-control': 'back', title: 'back in time' }, ['◀']);
    back.addEventListener('click', () => handlers.onShift(-1));
    this.forwardButton = el('button', { type: 'button', 'data-control': 'forward', title: 'forward in time' }, ['▶']);
    this.forwardButton.addEventListener('click', () => handlers.onShift(1));
    this.liveButton = el('button', { type: 'button', 'data-control': 'live', 'aria-pressed': 'true', title: 'back to live' }, ['live']);
    this.liveButton.addEventListener('click', () => handlers.onLive());
    this.rangeLabel = el('span', { class: 'range-label', 'data-role': 'range', 'aria-live': 'polite' });
    this.pauseButton = el('button', { type: 'button', 'data-control': 'pause', 'aria-pressed': 'false' }, ['pause']);
    this.pauseButton.addEventListener('click', () => {
      this.setPaused(!this.paused);
      handlers.onPause(this.paused);
    });
    this.themeButton = el('button', { type: 'button', 'data-control': 'theme' });
    this.themeButton.addEventListener('click', () => {
      const next = THEMES[(THEMES.indexOf(this.theme) + 1) % THEMES.length] as ThemeChoice;
      this.setTheme(next);
      handlers.onTheme(next);
    });
    this.notifyButton = el('button', { type: 'button', 'data-control': 'notify', hidden: '' }, ['notify me of alerts']);
    this.notifyButton.addEventListener('click', () => handlers.onNotify());
    const time = el('div', { class: 'segmented', role: 'group', 'aria-label': 'move in time' }, [
      back,
      this.forwardButton,
      this.liveButton,
    ]);
    container.append(windows, time, this.pauseButton, this.rangeLabel, this.themeButton, this.notifyButton);
  }

  /** Live (the charts follow the stream) or looking at a range of the past, described by `label`. */
  setLive(live: boolean, label = ''): void {
    this.liveButton.setAttribute('aria-pressed', String(live));
    this.forwardButton.disabled = live;
    setText(this.rangeLabel, label);
  }

  /** No window button is pressed while a dragged or moved range is shown. */
  clearWindow(): void {
    for (const button of this.windowButtons.values()) button.setAttribute('aria-pressed', 'false');
  }

  setWindow(label: WindowLabel): void {
    for (const [name, button] of this.windowButtons) button.setAttribute('aria-pressed', String(name === label));
  }

  /**
   * Windows longer than the server's history cannot be filled: they are offered disabled. Those up to
   * `liveMs` come from the page's own samples (`historyMs` of them); longer ones from the durable history
   * (`durableMs`).
   */
  limitWindows(historyMs: number, durableMs: number, liveMs: number, windows: readonly { label: WindowLabel; ms: number }[]): void {
    for (const { label, ms } of windows) {
      const button = this.windowButtons.get(label);
      if (!button) continue;
      const limit = ms <= liveMs ? historyMs : durableMs;
      button.disabled = ms > limit;
      button.title = button.disabled ? `the server keeps ${Math.round(limit / 60_000)} min of history` : '';
    }
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.pauseButton.setAttribute('aria-pressed', String(paused));
    setText(this.pauseButton, paused ? 'resume' : 'pause');
    document.documentElement.classList.toggle('paused', paused);
  }

  setTheme(theme: ThemeChoice): void {
    this.theme = theme;
    setText(this.themeButton, `theme: ${theme}`);
  }

  /** Offered only where the browser has notifications and the user has not decided yet. */
  showNotify(visible: boolean): void {
    this.notifyButton.hidden = !visible;
  }
}
