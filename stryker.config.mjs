// @ts-check
/**
 * Mutation testing of the server's core and the page's stream and store logic (`npm run mutate`).
 * The report is committed under test/mutation/ (see its README.md); not part of `npm test`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: [
    'server/stream/service.ts',
    'server/stream/hub.ts',
    'server/stream/sse.ts',
    'server/stream/sink.ts',
    'server/stream/limits.ts',
    'server/http/auth.ts',
    'server/http/query.ts',
    'server/requests/stats.ts',
    'server/requests/middleware.ts',
    'server/lib/latency.ts',
    'server/lib/duration.ts',
    'server/collect/rate.ts',
    'server/collect/procfs-parse.ts',
    // The collectors' math; the rest of those files reads /proc or calls systeminformation.
    'server/collect/cpu.ts:8-8',
    'server/collect/cpu.ts:11-24',
    'server/collect/memory.ts:7-23',
    'server/collect/network.ts:14-31',
    'server/collect/filesystem.ts:12-34',
    'server/collect/processes.ts:14-24',
    'server/alerts/engine.ts',
    'server/alerts/rules.ts',
    'server/alerts/webhook.ts',
    'server/config.ts',
    'server/fleet/agent.ts',
    'server/fleet/mirror.ts',
    'web/stream.ts',
    'web/store.ts',
    'web/event-order.ts',
    'web/charts/decimate.ts',
  ],
  // Two cores shared with other work: one test process at a time is the fair share.
  concurrency: 1,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: 'test/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'test/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  // Not needed in the sandbox: other runs' sandboxes and results. dist/ is: one alerts test runs the built CLI.
  ignorePatterns: ['.stryker-tmp*', 'test/bench/results', 'test/e2e/artifacts', 'test/mutation', 'reports'],
  cleanTempDir: 'always',
};
