import { CHROMIUM, ensureDebianTools, NGINX } from './helpers/debian.js';

/** Once per test run: the browser and the reverse proxy the tests drive, from Debian's packages when missing. */
export default function setup(): void {
  ensureDebianTools([CHROMIUM, NGINX]);
}
