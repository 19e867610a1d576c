// One load-generator process of the fan-out bench: holds SSE (`sse`) or socket.io (`socketio`) clients
// to a server, from one local address, and times every update from its publication to its receipt.
// Commands on stdin, one per line: `open <total>`, `measure`, `report`. Answers on stdout, one JSON per line.
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import connect from 'socket.io-client';

const [kind, url, localAddress] = process.argv.slice(2) as ['sse' | 'socketio', string, string];
const CONNECTING_AT_ONCE = 64;
/** Latencies in whole ms (the timestamps are ms), 0 to 60 s; the last slot holds anything longer. */
const histogram = new Uint32Array(60_001);
let measuring = false;
let held = 0;
let failed = 0;
let opened = 0;
const closers: (() => void)[] = [];

const record = (publishedAt: number) => {
  if (!measuring || !(publishedAt > 0)) return;
  const ms = Math.max(0, Date.now() - publishedAt);
  const slot = Math.min(ms, histogram.length - 1);
  histogram[slot] = (histogram[slot] ?? 0) + 1;
};

/** Sample time of each logged event (`id:` line; not the backfill): the server publishes it within the ms. */
function readFrames(text: string): void {
  let at = text.indexOf('id: ');
  while (at >= 0) {
    const end = text.indexOf('\n\n', at);
    if (end < 0) return;
    const frame = text.slice(at, end);
    if (!frame.includes('event: backfill')) {
      const t = frame.indexOf('data: {"t":');
      if (t >= 0) record(Number(frame.slice(t + 11, t + 24)));
    }
    at = text.indexOf('id: ', end);
  }
}

function openSse(): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${url}/api/events`, { headers: { Accept: 'text/event-stream' }, agent: false, localAddress }, (res) => {
      if (res.statusCode !== 200) {
        failed++;
        res.resume();
        return resolve();
      }
      held++;
      resolve();
      let rest = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        const text = rest + chunk;
        const last = text.lastIndexOf('\n\n');
        if (last < 0) {
          rest = text;
          return;
        }
        readFrames(text.slice(0, last + 2));
        rest = text.slice(last + 2);
      });
      res.on('close', () => held--);
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
    req.end();
    closers.push(() => req.destroy());
  });
}

function openSocketIo(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(url, { forceNew: true, transports: ['websocket'], reconnection: false, timeout: 60_000, localAddress });
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      held++;
      resolve();
    });
    socket.on('connect_error', () => {
      failed++;
      resolve();
    });
    socket.on('disconnect', () => {
      if (connected) held--;
      connected = false;
    });
    socket.on('esm_stats', (stats: { publishedAt?: number }) => record(stats.publishedAt ?? 0));
    closers.push(() => socket.close());
  });
}

async function openUpTo(total: number): Promise<void> {
  const open = kind === 'sse' ? openSse : openSocketIo;
  const worker = async () => {
    while (opened < total) {
      opened++;
      await open();
    }
  };
  await Promise.all(Array.from({ length: CONNECTING_AT_ONCE }, worker));
}

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, arg] = line.trim().split(' ');
  if (command === 'open') void openUpTo(Number(arg)).then(() => say({ opened, held, failed }));
  else if (command === 'measure') {
    histogram.fill(0);
    measuring = true;
    say({ measuring });
  } else if (command === 'report') {
    measuring = false;
    const counts: [number, number][] = [];
    histogram.forEach((count, ms) => {
      if (count > 0) counts.push([ms, count]);
    });
    say({ held, failed, counts });
  } else if (command === 'close') {
    for (const close of closers) close();
    say({ closed: true });
    setTimeout(() => process.exit(0), 200);
  }
});
say({ ready: true });
