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
