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
    // Files run one after another: integration and browser tests start real servers and Chromium, and
    // on 2 cores two such files at once made timing-sensitive checks (first paint, latency) flaky.
    fileParallelism: false,
  },
});
