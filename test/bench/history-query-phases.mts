// The page's /api/history query of the 24 h / 7 d / 30 d windows in-process, on a copy of a demo store
// (`pulseboard demo --days 30 --data-dir <dir>`), phase by phase: CPU (process.cpuUsage) of the query
// (read, merge, columns), of JSON.stringify and of gzip at level 1; the first round (cold) and the median
// of the next ones. DIST picks the build (default ./dist), so two builds can be run one after the other:
//   DIST=/tmp/before/dist node test/bench/history-query-phases.mts <demo dir> [rounds]
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = resolve(process.env.DIST ?? 'dist');
const { queryRange } = await import(join(dist, 'server/history/query.js'));
const { HistoryStore } = await import(join(dist, 'server/history/store.js'));
const { DEFAULT_RETENTION } = await import(join(dist, 'server/history/tiers.js'));

const dir = mkdtempSync(join(tmpdir(), 'pulseboard-phases-'));
cpSync(process.argv[2] as string, dir, { recursive: true });
const store = HistoryStore.open({ dir, retention: DEFAULT_RETENTION, memoryMs: 3_600_000, log: () => {} });
const topics = ['cpu', 'memory', 'network', 'disk', 'temperature', 'process', 'requests'];
const rounds = Number(process.argv[3] ?? 10);
const DAY = 86_400_000;
const cpuMs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
for (const [window, span] of [
  ['24h', DAY],
  ['7d', 7 * DAY],
  ['30d', 30 * DAY],
] as const) {
  const phases: number[][] = [];
  for (let round = 0; round <= rounds; round++) {
    const now = Date.now();
    const a = cpuMs();
    const answer = queryRange(store, { topics, from: now - span, to: now, points: 1400 }, 1000, now);
    const b = cpuMs();
    const json = Buffer.from(JSON.stringify(answer));
    const c = cpuMs();
    const gzipped = gzipSync(json, { level: 1 });
    const d = cpuMs();
    phases.push([b - a, c - b, d - c, json.length, gzipped.length]);
  }
  const show = (p: number[]) =>
    `query ${p[0]?.toFixed(1)} json ${p[1]?.toFixed(1)} gzip ${p[2]?.toFixed(1)} ms; ${p[3]} bytes, ${p[4]} gzipped`;
  const warm = phases.slice(1);
  const median = (k: number) => warm.map((p) => p[k] as number).sort((x, y) => x - y)[Math.floor(warm.length / 2)] as number;
  console.log(`${window} cold: ${show(phases[0] as number[])} | warm median: ${show([0, 1, 2, 3, 4].map(median))}`);
}
store.close();
rmSync(dir, { recursive: true, force: true });
