import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs against each mutant (`npm run mutate`): unit tests and the integration tests that
 * run the server in this process. Tests that spawn the built CLI or drive Chromium exercise dist/, which
 * Stryker does not mutate, so they could not kill a mutant and only cost time.
 */
export default defineConfig({
  root: '.',
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/{stream,alerts,requests,fleet-agent,fleet-agent-edges,portable}.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
