import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSeconds, LOAD_CPU, launchLine, MANY_FILES, median, rssBytes, type Started, sleep, startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLIENT_PROCESSES = 4;
const SETTLE_MS = 3000;
const OPEN_TIMEOUT_MS = 120_000;
const ASK_TIMEOUT_MS = 60_000;

export interface FanoutLevel {
  clients: number;
  held: number;
  failed: number;
  /** Publish to receipt, ms, over every update at every client: medians over the windows. */
  p50: number;
  p99: number;
  max: number;
  received: number;
  /** Server RSS above the idle server's, per client held. */
  rssPerClient: number;
  /** Server CPU per second, i.e. per 1 Hz update (every topic's event), ms, per 1 000 clients held. */
  cpuMsPerUpdatePer1000: number;
  /** Server CPU per event delivered to 1 000 clients, ms: ours sends every topic (7 events a second), the peer 1. */
  cpuMsPerEventPer1000: number;
  cpuMsPerSecond: number;
}

export interface FanoutResult {
  ours: FanoutLevel[];
  peer: FanoutLevel[];
  windows: number;
  windowSeconds: number;
  commands: { ours: string; peer: string };
}

type Reply = Record<string, unknown>;

/** A load-generator process (test/bench/fanout-clients.ts) on the load CPU, spoken to line by line. */
class ClientProcess {
  private readonly child: ChildProcess;
  private readonly replies: ((reply: Reply) => void)[] = [];
  readonly ready: Promise<Reply>;

  constructor(kind: 'sse' | 'socketio', url: string, localAddress: string) {
    const [file, args] = launchLine(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/bench/fanout-clients.ts'), kind, url, localAddress],
      { cpu: LOAD_CPU, fileLimit: MANY_FILES },
    );
    this.child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.ready = this.next();
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.replies.shift()?.(JSON.parse(line)));
  }

  private next(): Promise<Reply> {
    return new Promise((resolve) => this.replies.push(resolve));
  }

  /** A client process that does not answer within ASK_TIMEOUT_MS fails the bench's level rather than hang it. */
  ask(command: string): Promise<Reply> {
    const reply = this.next();
    this.child.stdin?.write(`${command}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`a client process did not answer '${command}' within ${ASK_TIMEOUT_MS / 1000} s`)),
        ASK_TIMEOUT_MS,
      );
    });
    return Promise.race([reply, timeout]).finally(() => clearTimeout(timer));
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.write('close\n');
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
    await exited;
  }
}

function summarize(countsOfEachProcess: [number, number][][]): { p50: number; p99: number; max: number; received: number } {
  const counts = new Map<number, number>();
  for (const list of countsOfEachProcess) for (const [ms, n] of list) counts.set(ms, (counts.get(ms) ?? 0) + n);
  const sorted = [...counts].sort((a, b) => a[0] - b[0]);
  const received = sorted.reduce((sum, [, n]) => sum + n, 0);
  const at = (p: number) => {
    const rank = Math.max(1, Math.ceil((p / 100) * received));
    let seen = 0;
    for (const [ms, n] of sorted) {
      seen += n;
      if (seen >= rank) return ms;
    }
    return Number.NaN;
  };
  return { p50: at(50), p99: at(99), max: sorted.at(-1)?.[0] ?? Number.NaN, received };
}

/** Grows the clients level by level on one server; at each level, `windows` measurement windows after a settle. */
export async function fanOut(
  server: Started,
  kind: 'sse' | 'socketio',
  levels: number[],
  windows: number,
  windowSeconds: number,
  subnet: number,
): Promise<FanoutLevel[]> {
  await sleep(2000);
  const baseRss = rssBytes(server.pid);
  const processes = Array.from({ length: CLIENT_PROCESSES }, (_, i) => new ClientProcess(kind, server.url, `127.0.${subnet}.${i + 1}`));
  const results: FanoutLevel[] = [];
  try {
    await Promise.all(processes.map((p) => p.ready));
    for (const clients of levels) {
      const level = await measureLevel(clients).catch((error: unknown) => {
        process.stderr.write(`bench: fan-out at ${clients} clients abandoned: ${(error as Error).message}\n`);
        return null;
      });
      if (!level) break;
      results.push(level.result);
      // A server that no longer holds what it was given is not taken further.
      if (!level.allOpened || level.result.held < clients * 0.99) break;
    }
  } finally {
    await Promise.all(processes.map((p) => p.close()));
  }
  return results;

  async function measureLevel(clients: number): Promise<{ result: FanoutLevel; allOpened: boolean }> {
    const share = Math.ceil(clients / CLIENT_PROCESSES);
    const opened = await Promise.race([Promise.all(processes.map((p) => p.ask(`open ${share}`))), sleep(OPEN_TIMEOUT_MS).then(() => null)]);
    await sleep(SETTLE_MS);
    const samples: {
      cpuMs: number;
      rss: number;
      p50: number;
      p99: number;
      max: number;
      received: number;
      held: number;
      failed: number;
    }[] = [];
    for (let w = 0; w < windows; w++) {
      await Promise.all(processes.map((p) => p.ask('measure')));
      const cpuBefore = cpuSeconds(server.pid);
      const startedAt = performance.now();
      await sleep(windowSeconds * 1000);
      const cpuAfter = cpuSeconds(server.pid);
      const elapsed = (performance.now() - startedAt) / 1000;
      const rss = rssBytes(server.pid);
      const reports = await Promise.all(processes.map((p) => p.ask('report')));
      const latency = summarize(reports.map((r) => r.counts as [number, number][]));
      samples.push({
        cpuMs: ((cpuAfter - cpuBefore) * 1000) / elapsed,
        rss,
        ...latency,
        held: reports.reduce((sum, r) => sum + Number(r.held), 0),
        failed: reports.reduce((sum, r) => sum + Number(r.failed), 0),
      });
    }
    const held = Math.min(...samples.map((s) => s.held));
    const pick = (key: keyof (typeof samples)[number]) => median(samples.map((s) => s[key]));
    const result: FanoutLevel = {
      clients,
      held,
      failed: Math.max(...samples.map((s) => s.failed)),
      p50: pick('p50'),
      p99: pick('p99'),
      max: pick('max'),
      received: pick('received'),
      rssPerClient: held > 0 ? (pick('rss') - baseRss) / held : Number.NaN,
      cpuMsPerSecond: pick('cpuMs'),
      cpuMsPerUpdatePer1000: held > 0 ? pick('cpuMs') / (held / 1000) : Number.NaN,
      cpuMsPerEventPer1000: pick('received') > 0 ? (pick('cpuMs') / (pick('received') / windowSeconds)) * 1000 : Number.NaN,
    };
    return { result, allOpened: opened !== null };
  }
}

/** 1 000, 5 000, 10 000 clients held: ours over SSE, the peer over socket.io (websocket transport). */
export async function benchFanout(levels: number[], windows: number, windowSeconds: number): Promise<FanoutResult> {
  const oursArgs = [join(ROOT, 'dist/server/main.js'), '--port', '0', '--max-streams', '1000000', '--max-streams-per-client', '1000000'];
  const peerArgs = ['--import', 'tsx', join(ROOT, 'test/bench/apps/express-app.ts'), 'monitored'];
  const launch = { fileLimit: MANY_FILES };
  const ours = await startProcess(process.execPath, oursArgs, {}, undefined, launch);
  let oursLevels: FanoutLevel[];
  try {
    oursLevels = await fanOut(ours, 'sse', levels, windows, windowSeconds, 1);
  } finally {
    await ours.stop();
  }
  const peer = await startProcess(process.execPath, peerArgs, {}, undefined, launch);
  let peerLevels: FanoutLevel[];
  try {
    await fetch(`${peer.url}/`); // express-status-monitor starts its socket.io server on the first request
    peerLevels = await fanOut(peer, 'socketio', levels, windows, windowSeconds, 2);
  } finally {
    await peer.stop();
  }
  const how = `${CLIENT_PROCESSES} client processes (test/bench/fanout-clients.ts) on CPU ${LOAD_CPU}, ulimit -n ${MANY_FILES}; ${windows} windows of ${windowSeconds} s per level after ${SETTLE_MS / 1000} s, medians`;
  return {
    ours: oursLevels,
    peer: peerLevels,
    windows,
    windowSeconds,
    commands: {
      ours: `node ${oursArgs.slice(0).join(' ').replace(`${ROOT}/`, '')}; SSE clients on /api/events (every topic); ${how}`,
      peer: `node ${peerArgs.join(' ').replace(`${ROOT}/`, '')}; socket.io 2 clients (websocket); ${how}`,
    },
  };
}
