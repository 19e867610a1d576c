import { THEMES, type ThemeChoice, WINDOWS, type WindowLabel } from '../preferences.js';
import { el, setText } from './dom.js';

export interface ToolbarHandlers {
  onWindow(label: WindowLabel): void;
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
    container.append(windows, this.pauseButton, this.themeButton, this.notifyButton);
  }

  setWindow(label: WindowLabel): void {
    for (const [name, button] of this.windowButtons) button.setAttribute('aria-pressed', String(name === label));
  }

  /** Windows longer than the server's history cannot be filled: they are offered disabled. */
  limitWindows(historyMs: number, windows: readonly { label: WindowLabel; ms: number }[]): void {
    for (const { label, ms } of windows) {
      const button = this.windowButtons.get(label);
      if (!button) continue;
      button.disabled = ms > historyMs;
      button.title = button.disabled ? `the server keeps ${Math.round(historyMs / 60_000)} min of history` : '';
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
