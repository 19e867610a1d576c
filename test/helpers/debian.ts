import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface DebianTool {
  /** Absolute path of the program the tests run. */
  binary: string;
  /** The Debian package that provides it. */
  pkg: string;
}

export const CHROMIUM: DebianTool = { binary: '/usr/bin/chromium', pkg: 'chromium' };
export const NGINX: DebianTool = { binary: '/usr/sbin/nginx', pkg: 'nginx-light' };
export const REDIS: DebianTool = { binary: '/usr/bin/redis-server', pkg: 'redis-server' };

/**
 * Installs the missing tools from Debian's packages when we are root with apt-get (downloads from elsewhere
 * are blocked here); otherwise, or if that fails, throws with the exact command to run.
 */
export function ensureDebianTools(tools: readonly DebianTool[]): void {
  const missing = tools.filter((tool) => !existsSync(tool.binary));
  if (missing.length === 0) return;
  const packages = missing.map((tool) => tool.pkg);
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', '-qq', ...packages], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch {
      // fall through to the message below
    }
  }
  const still = missing.filter((tool) => !existsSync(tool.binary));
  if (still.length > 0) {
    const names = still.map((tool) => tool.binary).join(', ');
    throw new Error(`${names} missing; install with: apt-get install -y ${still.map((tool) => tool.pkg).join(' ')}`);
  }
}
