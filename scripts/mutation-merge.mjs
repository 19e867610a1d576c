// Merges the JSON reports of several mutation runs (stryker.adhoc.config.mjs: one per file group, then narrower
// runs over the lines of the survivors after new tests) into test/mutation/mutation.json, which
// `npm run mutate:report` reads. A mutant measured again in a later report (same place, mutator and
// replacement) takes that later result; a file seen first in a later report is added whole.
//   node scripts/mutation-merge.mjs /tmp/adhoc-a.json /tmp/adhoc-b.json ...
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const inputs = process.argv.slice(2);
if (inputs.length === 0) {
  console.error('usage: node scripts/mutation-merge.mjs <stryker json report>...');
  process.exit(2);
}

const keyOf = ({ location: { start, end }, mutatorName, replacement }) =>
  `${start.line}:${start.column}-${end.line}:${end.column} ${mutatorName} ${replacement ?? ''}`;

const reports = inputs.map((path) => JSON.parse(readFileSync(path, 'utf8')));
const merged = { ...reports[0], files: {}, testFiles: {} };
let remeasured = 0;
for (const report of reports) {
  Object.assign(merged.testFiles, report.testFiles ?? {});
  for (const [file, result] of Object.entries(report.files)) {
    const known = merged.files[file];
    if (!known) {
      merged.files[file] = { ...result, mutants: [...result.mutants] };
      continue;
    }
    const index = new Map(known.mutants.map((mutant, i) => [keyOf(mutant), i]));
    for (const mutant of result.mutants) {
      const at = index.get(keyOf(mutant));
      if (at === undefined) known.mutants.push(mutant);
      else {
        known.mutants[at] = mutant;
        remeasured++;
      }
    }
  }
}
const target = join(import.meta.dirname, '..', 'test', 'mutation', 'mutation.json');
writeFileSync(target, JSON.stringify(merged));
console.log(`${target}: ${Object.keys(merged.files).length} files from ${inputs.length} reports, ${remeasured} mutants measured again`);
