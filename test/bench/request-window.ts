// Issue 20's per-tick cost of request statistics: closing a tick puts its histograms into the 60 s window and,
// once the window is full, takes the tick that leaves it out again. In this process, with a fake clock at
// 1 s ticks: each tick 2 000 requests over 7 routes and 250 distinct latencies (as the access-log bench's
// lines), CPU time of `sample()` alone while the window fills (ticks 1-60) and once it is full (61-120).
import { RequestStats } from '../../server/requests/stats.js';
import type { Row } from './table.js';

const REQUESTS_PER_TICK = 2_000;
const TICKS = 120;
const ROUTES = ['GET /', 'GET /users/:id', 'GET /users/:id/orders', 'GET /api/search', 'GET /static/*', 'GET /healthz', 'GET /a/b/c/*'];

export interface RequestWindowCost {
  /** CPU per sample() while the window fills, ms. */
  fillingMs: number;
  /** CPU per sample() with a full window (a tick added, one taken out), ms. */
  fullMs: number;
}

export function benchRequestWindow(): RequestWindowCost {
  const stats = new RequestStats({ source: 'access-log' });
  let fillingUs = 0;
  let fullUs = 0;
  for (let tick = 1; tick <= TICKS; tick++) {
    for (let i = 0; i < REQUESTS_PER_TICK; i++) {
      stats.requestStarted();
      stats.requestEnded(ROUTES[i % ROUTES.length] as string, '2xx', (i % 250) + 1, 612);
    }
    const before = process.cpuUsage();
    stats.sample(tick * 1000);
    const used = process.cpuUsage(before);
    if (tick <= 60) fillingUs += used.user + used.system;
    else fullUs += used.user + used.system;
  }
  return { fillingMs: fillingUs / 60 / 1000, fullMs: fullUs / (TICKS - 60) / 1000 };
}

export function requestWindowRows(cost: RequestWindowCost): Row[] {
  return [
    {
      measure: `request statistics: ms CPU to close a tick of ${REQUESTS_PER_TICK.toLocaleString('en-US')} requests (7 routes) into the 60 s window, while it fills / once it is full`,
      ours: `${cost.fillingMs.toFixed(2)} / ${cost.fullMs.toFixed(2)}`,
      peer: '-',
      ratio: '-',
      command: `in the bench process: RequestStats.sample() at 1 s ticks of a fake clock, ticks 1-60 / 61-${TICKS} (test/bench/request-window.ts)`,
    },
  ];
}
