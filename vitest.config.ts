import { defineConfig } from 'vitest/config';

// vite.config.ts sets root: 'web' for the page; tests live at the repo root, so set it here.
export default defineConfig({
  root: '.',
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and browser tests start real servers and Chromium: keep the 2-core machine unhurried.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
