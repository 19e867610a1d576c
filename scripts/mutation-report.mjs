// `npm run mutate:report`: turns Stryker's JSON report (test/mutation/mutation.json) into test/mutation/README.md:
// the score per file next to the first run's, and every surviving mutant with the reason it remains
// (test/mutation/reasons.json, written by hand; a survivor without a reason is listed as "not explained").
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '..', 'test', 'mutation');
const read = (name) => JSON.parse(readFileSync(join(DIR, name), 'utf8'));

const report = read('mutation.json');
const before = read('before.json');
const reasons = read('reasons.json');

const DETECTED = new Set(['Killed', 'Timeout']);
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);

/** The key a reason is filed under: where the mutant is and what it does. */
const keyOf = (file, mutant) =>
  `${file}:${mutant.location.start.line}:${mutant.location.start.column} ${mutant.mutatorName} ${mutant.replacement ?? ''}`;

function tally(files) {
  const rows = new Map();
  for (const [file, { mutants }] of Object.entries(files)) {
    const row = { total: 0, detected: 0, survived: 0, noCoverage: 0, equivalent: 0, ignored: 0 };
    for (const mutant of mutants) {
      if (mutant.status === 'Ignored') row.ignored++;
      if (!COUNTED.has(mutant.status)) continue;
      row.total++;
      if (DETECTED.has(mutant.status)) row.detected++;
      else if (mutant.status === 'Survived') row.survived++;
      else row.noCoverage++;
      if (!DETECTED.has(mutant.status) && reasons[keyOf(file, mutant)]?.equivalent) row.equivalent++;
    }
    rows.set(file, row);
  }
  return rows;
}

const percent = (part, whole) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)} %`);
const after = tally(report.files);
const sum = (rows) => {
  const all = {};
  for (const row of rows) for (const [key, value] of Object.entries(row)) all[key] = (all[key] ?? 0) + value;
  return all;
};
/** The first run's score, with its static mutants and without them (the runs since may leave static ones out). */
const beforeScores = (old) =>
  old ? [percent(old.detected, old.total), percent(old.detected - old.staticDetected, old.total - old.static)] : ['-', '-'];

const lines = [
  '# Mutation testing: the report',
  '',
  `Written by \`npm run mutate:report\` from \`test/mutation/mutation.json\` (StrykerJS ${report.framework?.version ?? ''}, vitest`,
  'runner), next to the first run before the tests of issue 19 (`before.json`, the per-file counts of that run). A',
  'mutant is *detected* when a test fails on it (killed) or it makes a test hang (timeout). The score is detected / all',
  'counted mutants; the killable score leaves out the survivors explained below as equivalent (no test can tell them',
  'from the original: same output, only a different path to it). *Static* mutants change code that runs when a module',
  'loads, so Stryker runs every test for each; a run with `ignoreStatic` leaves them out (column "static left out"),',
  'and the score before is then compared without them too.',
  '',
  '| file | mutants | detected | survived | no coverage | equivalent | static left out | score before (with static) | score before (without static) | score | killable score |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const [file, row] of [...after].sort(([a], [b]) => a.localeCompare(b))) {
  const [withStatic, withoutStatic] = beforeScores(before.files[file]);
  lines.push(
    `| ${file} | ${row.total} | ${row.detected} | ${row.survived} | ${row.noCoverage} | ${row.equivalent} | ${row.ignored} | ${withStatic} | ${withoutStatic} | ${percent(row.detected, row.total)} | ${percent(row.detected, row.total - row.equivalent)} |`,
  );
}
const all = sum(after.values());
const allBefore = sum(Object.values(before.files));
const [allWithStatic, allWithoutStatic] = beforeScores(allBefore);
lines.push(
  `| **all** | ${all.total} | ${all.detected} | ${all.survived} | ${all.noCoverage} | ${all.equivalent} | ${all.ignored} | ${allWithStatic} | ${allWithoutStatic} | ${percent(all.detected, all.total)} | ${percent(all.detected, all.total - all.equivalent)} |`,
  '',
  '## Every mutant that remains, and why',
  '',
);
for (const [file, { mutants, source }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const left = mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage');
  if (left.length === 0) continue;
  const code = source.split('\n');
  lines.push(`### ${file}`, '');
  for (const mutant of left.sort(
    (a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column,
  )) {
    const { line, column } = mutant.location.start;
    const original = (code[line - 1] ?? '').trim().replaceAll('|', '\\|');
    const reason = reasons[keyOf(file, mutant)];
    const status = mutant.status === 'NoCoverage' ? 'no test runs it' : 'survived';
    lines.push(
      `- ${line}:${column} ${mutant.mutatorName}${mutant.static ? ' (static)' : ''}, ${status}: \`${original.slice(0, 110)}\` → \`${(mutant.replacement ?? '').slice(0, 80)}\``,
      `  ${reason ? `${reason.equivalent ? 'Equivalent: ' : ''}${reason.why}` : '**not explained**'}`,
    );
  }
  lines.push('');
}
writeFileSync(join(DIR, 'README.md'), `${lines.join('\n')}\n`);
const unexplained = Object.entries(report.files).flatMap(([file, { mutants }]) =>
  mutants.filter((m) => (m.status === 'Survived' || m.status === 'NoCoverage') && !reasons[keyOf(file, m)]).map((m) => keyOf(file, m)),
);
console.log(
  `test/mutation/README.md: ${all.detected} of ${all.total} detected (${percent(all.detected, all.total)}); ${unexplained.length} survivors without a reason`,
);
for (const key of unexplained) console.log(`  ${key}`);
