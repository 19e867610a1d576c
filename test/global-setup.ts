import { CHROMIUM, ensureDebianTools, NGINX, REDIS } from './helpers/debian.js';

/** Once per test run: the browser, the reverse proxy and Redis the tests drive, from Debian's packages when missing. */
export default function setup(): void {
  ensureDebianTools([CHROMIUM, NGINX, REDIS]);
}
