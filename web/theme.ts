import type { ThemeChoice } from './preferences.js';

const darkQuery = () => matchMedia('(prefers-color-scheme: dark)');

/** Sets `data-theme` on the root to the theme in force; `auto` follows the system's preference. */
export function applyTheme(choice: ThemeChoice): 'light' | 'dark' {
  const resolved = choice === 'auto' ? (darkQuery().matches ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = resolved;
  return resolved;
}

/** Calls back when the system switches between light and dark (it matters while the choice is `auto`). */
export function onSystemThemeChange(callback: () => void): void {
  darkQuery().addEventListener('change', callback);
}
