// Where a live update's CPU goes in Chromium, by thread and by Blink phase: a DevTools trace of the page at
// a live window while a 1 s server streams, summed per second. A diagnostic beside `npm run bench`'s
// pagecost rows (which give the totals, not the phases).
//
//   node dist/server/main.js demo --days 1 --data-dir /tmp/demo1d
//   node --import tsx scripts/trace-live-updates.mjs
//
// Knobs: DIST (build to serve, default dist), DATA (its --data-dir, default /tmp/demo1d), SIZE (1440x900),
// KIOSK=1, WINDOW (1h), TRACE_SECONDS traced (20). The server runs on CPU 0, as the bench's do.
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../test/helpers/chromium.ts';
import { CHROMIUM } from '../test/helpers/debian.ts';

const DIST = process.env.DIST ?? 'dist';
const SECONDS = Number(process.env.TRACE_SECONDS ?? 20);
const [width, height] = (process.env.SIZE ?? '1440x900').split('x').map(Number);
const PHASES = ['ProxyMain::BeginMainFrame', 'Paint', 'Layout', 'UpdateLayoutTree', 'PrePaint', 'Layerize', 'Commit'];
const PHASES_MORE = ['FireAnimationFrame', 'ResponseBodyLoader::OnStateChange', 'FunctionCall'];

const server = spawn(
  'taskset',
  ['-c', '0', process.execPath, `${DIST}/server/main.js`, '--port', '0', '--data-dir', process.env.DATA ?? '/tmp/demo1d'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise((resolve) => {
  let output = '';
  server.stdout.on('data', (chunk) => {
    output += chunk;
    const match = /listening on (http:\/\/\S+)/.exec(output);
    if (match) resolve(match[1].replace(/\/$/, ''));
  });
});
ensureChromium();
// Playwright's launch gives the browser a fresh temporary profile of its own.
const browser = await chromium.launch({ executablePath: CHROMIUM.binary, args: CHROMIUM_ARGS });
try {
  const page = await (await browser.newContext({ viewport: { width, height } })).newPage();
  await page.goto(`${url}/?window=${process.env.WINDOW ?? '1h'}&share=0${process.env.KIOSK ? '&kiosk' : ''}`);
  await page.waitForFunction(() => performance.getEntriesByName('pulseboard:backfill-drawn').length > 0, null, { polling: 200 });
  await page.waitForTimeout(8000);

  const cdp = await browser.newBrowserCDPSession();
  const events = [];
  cdp.on('Tracing.dataCollected', (message) => events.push(...message.value));
  const complete = new Promise((resolve) => cdp.on('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,toplevel,blink,v8,cc,viz,gpu,disabled-by-default-devtools.timeline' });
  await page.waitForTimeout(SECONDS * 1000);
  await cdp.send('Tracing.end');
  await complete;

  const threadNames = new Map();
  for (const event of events)
    if (event.ph === 'M' && event.name === 'thread_name') threadNames.set(`${event.pid}:${event.tid}`, event.args.name);
  const byThread = new Map();
  for (const event of events) {
    if (event.ph !== 'X' || !event.dur) continue;
    const key = `${event.pid}:${event.tid}`;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push(event);
  }
  // A thread's CPU: its top-level events' thread time (nested events are inside their parent's).
  const groups = new Map();
  for (const [key, list] of byThread) {
    const name = threadNames.get(key) ?? 'other';
    if (/PerfettoTrace|tracing/.test(name)) continue; // the tracing's own threads
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    let end = -1;
    let cpu = 0;
    for (const event of list) {
      if (event.ts < end) continue;
      cpu += event.tdur ?? event.dur;
      end = event.ts + event.dur;
    }
    const group = /ThreadPool/.test(name) ? 'pool' : name;
    groups.set(group, (groups.get(group) ?? 0) + cpu);
  }
  const perSecond = (us) => (us / 1000 / SECONDS).toFixed(2);
  let all = 0;
  for (const us of groups.values()) all += us;
  console.log(`all Chromium threads ${perSecond(all)} ms a second`);
  for (const [group, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${group.padEnd(28)} ${perSecond(us)}`);
  const main = events.filter((event) => event.ph === 'X' && threadNames.get(`${event.pid}:${event.tid}`) === 'CrRendererMain');
  console.log('renderer main thread, ms a second:');
  for (const phase of [...PHASES, ...PHASES_MORE]) {
    const us = main.filter((event) => event.name === phase).reduce((sum, event) => sum + (event.tdur ?? event.dur), 0);
    console.log(`  ${phase.padEnd(36)} ${perSecond(us)}`);
  }
} finally {
  await browser.close();
  server.kill();
}
