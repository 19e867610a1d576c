import { existsSync, rmdirSync } from 'node:fs';

/** Removes a cgroup directory made for a test or the bench: it can go once its last process has exited, which may be a moment after the kill. */
export async function removeWhenEmpty(dir: string): Promise<void> {
  for (let attempt = 0; existsSync(dir); attempt++) {
    try {
      rmdirSync(dir);
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * One turn of the event loop, as the server has between two samples: the cgroup directories' watch events
 * (a cgroup made or removed) arrive in it. Two turns: the first may start past the loop's poll for I/O.
 */
export async function betweenSamples(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
}
