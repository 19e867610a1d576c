import { ensureChromium } from './helpers/chromium.js';

/** Once per test run: the browser the e2e tests drive (installed from Debian's packages when missing). */
export default function setup(): void {
  ensureChromium();
}
