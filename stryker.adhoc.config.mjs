// @ts-check
/**
 * A mutation run over a subset of files, for working on one group at a time (not incremental, own sandbox
 * and report):  MUTATE=server/http/auth.ts,server/stream/limits.ts TAG=auth CONC=1 npx stryker run stryker.adhoc.config.mjs
 * The JSON report goes to /tmp/adhoc-<TAG>.json. IGNORE_STATIC=1 skips static mutants (faster, fewer counted).
 */
import base from './stryker.config.mjs';

const files = (process.env.MUTATE ?? '').split(',').filter(Boolean);
const tag = process.env.TAG ?? 'x';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: files.length ? files : base.mutate,
  concurrency: Number(process.env.CONC ?? 1),
  incremental: false,
  ignoreStatic: process.env.IGNORE_STATIC === '1',
  tempDirName: `.stryker-tmp-adhoc-${tag}`,
  reporters: ['json', 'clear-text', 'progress-append-only'],
  jsonReporter: { fileName: `/tmp/adhoc-${tag}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
};
