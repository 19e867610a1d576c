import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentInfo, BUCKETS_FIELD, DATA_FIELD, EVENT_FIELD, eventsKey, HOSTS_KEY, infoKey } from '../../server/fleet/keys.js';
import { DemoHost } from '../../server/history/demo.js';
import { toStoredPrecision } from '../../server/history/latency-buckets.js';
import type { Topic } from '../../server/protocol.js';
import { agentInfoOf } from '../helpers/payloads.js';
import { type RunningRedis, startRedis } from '../helpers/redis.js';
import { cpuSeconds, startProcess } from './procs.js';

/**
 * Memory of a fleet hub per host, with and without its hosts' durable history: N simulated agents write
 * the demo generator's samples (cpu, memory, network, disk, process, requests with latency buckets) into
 * a real redis-server at 1 Hz, the last hour of them first (what a stream holds at the agent's default
 * --history), then live for a few minutes while a hub (dist/, `--data-dir none` or a directory) follows.
 *
 *   npm run build && node --import tsx test/bench/fleet-history.ts [--hosts 1,5,20] [--minutes 2] [--modes none,dir]
 *
 * A hub process's peak RSS (VmHWM) is printed with its RSS.
 *
 * With `--heap` the hub runs in this process instead (node --expose-gc), and what is measured is its
 * heap used plus array buffers after a full garbage collection: what the hosts hold, without the heap
 * V8 keeps after the replay's and the seals' garbage (RSS does not give it back for minutes).
 */

const ROOT = join(import.meta.dirname, '..', '..');
const HOUR = 3_600_000;
const TOPICS: Topic[] = ['cpu', 'memory', 'network', 'disk', 'process', 'requests'];

const argument = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
};
const HOSTS = argument('hosts', '1,5,20').split(',').map(Number);
const LIVE_MS = Number(argument('minutes', '2')) * 60_000;
const MODES = argument('modes', 'none,dir').split(',') as ('none' | 'dir')[];
const IN_PROCESS = process.argv.includes('--heap');
const gc = (globalThis as { gc?: () => void }).gc;
if (IN_PROCESS && !gc) throw new Error('--heap needs node --expose-gc');

/** Heap used plus array buffers after a full collection, MB. */
function heapMb(): number {
  gc?.();
  gc?.();
  const memory = process.memoryUsage();
  return (memory.heapUsed + memory.arrayBuffers) / 1e6;
}

/** The hub: a process of dist/ (RSS), or in this process (heap). */
interface Hub {
  memoryMb(): number;
  /** The largest RSS so far (a process only). */
  peakMb?(): number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function startHub(redis: RunningRedis, dataDir: string | null): Promise<Hub> {
  if (IN_PROCESS) {
    const { startFleetHub } = await import('../../server/serve.js');
    const { testConfig } = await import('../helpers/server.js');
    const hub = await startFleetHub(testConfig({ redis: new URL(redis.url), port: 0, dataDir }), { webDir: null });
    return {
      memoryMb: heapMb,
      cpuSeconds: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1e6;
      },
      stop: () => hub.close(),
    };
  }
  const child = await startProcess(process.execPath, [
    join(ROOT, 'dist/server/main.js'),
    '--redis',
    redis.url,
    '--port',
    '0',
    '--data-dir',
    dataDir ?? 'none',
  ]);
  return {
    memoryMb: () => rssMb(child.pid),
    peakMb: () => rssMb(child.pid, 'VmHWM'),
    cpuSeconds: () => cpuSeconds(child.pid),
    stop: () => child.stop(),
  };
}

const infoOf = (name: string, bootId: string): AgentInfo =>
  agentInfoOf(name, bootId, {
    historyMs: HOUR,
    topics: TOPICS,
    collectors: [],
    capacity: Math.ceil((HOUR / 1000) * TOPICS.length) + 100,
  });

/** Bytes of the `b` fields and of the `d` fields of `requests` entries written, for what the buckets add. */
const requestsBytes = { buckets: 0, data: 0, entries: 0 };

/** One simulated agent: its stream ids and its demo samples. */
class Agent {
  private readonly demo: DemoHost;
  private seq = 0;
  readonly boot: string;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    this.demo = new DemoHost(seed);
    this.boot = String(Date.now() - HOUR - 1000);
  }

  /** The XADD argument lists of one tick at `t`. */
  tick(t: number): string[][] {
    const samples = this.demo.samples(t, 1000, HOUR);
    const commands: string[][] = [];
    for (const topic of TOPICS) {
      const fields = [EVENT_FIELD, topic, DATA_FIELD, JSON.stringify(samples[topic])];
      if (topic === 'requests') {
        const buckets = samples.buckets ? JSON.stringify(toStoredPrecision(samples.buckets)) : '';
        if (buckets) fields.push(BUCKETS_FIELD, buckets);
        requestsBytes.buckets += buckets.length;
        requestsBytes.data += (fields[3] as string).length;
        requestsBytes.entries++;
      }
      commands.push([eventsKey(this.name), `${this.boot}-${++this.seq}`, ...fields]);
    }
    return commands;
  }
}

async function send(redis: RunningRedis, commands: string[][]): Promise<void> {
  for (let i = 0; i < commands.length; i += 5000) {
    const pipeline = redis.client().pipeline();
    for (const args of commands.slice(i, i + 5000)) pipeline.xadd(...(args as [string, string, ...string[]]));
    await pipeline.exec();
  }
}

function rssMb(pid: number, field = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return (Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024) / 1e6;
}

interface Row {
  hosts: number;
  dataDir: 'none' | 'dir';
  startMb: number;
  endMb: number;
  peakMb: number | null;
  cpuPercent: number;
  openHourMinutes: number;
}

async function run(hosts: number, dataDir: 'none' | 'dir'): Promise<Row> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-fleet-bench-'));
  let hub: Hub | null = null;
  try {
    const agents = Array.from({ length: hosts }, (_, i) => new Agent(`host-${i + 1}`, i + 1));
    const start = Math.floor(Date.now() / 1000) * 1000;
    for (const agent of agents) {
      await redis.client().sadd(HOSTS_KEY, agent.name);
      await redis.client().hset(infoKey(agent.name), 'info', JSON.stringify(infoOf(agent.name, agent.boot)));
      const commands: string[][] = [];
      for (let t = start - HOUR; t < start; t += 1000) commands.push(...agent.tick(t));
      await send(redis, commands);
    }
    if (hosts === HOSTS[0] && dataDir === 'none') {
      const bytes = Number(await redis.client().call('MEMORY', 'USAGE', eventsKey('host-1'), 'SAMPLES', '0'));
      console.log(`one host's stream after an hour at 1 Hz: ${(bytes / 1e6).toFixed(2)} MB in Redis (MEMORY USAGE)`);
    }
    hub = await startHub(redis, dataDir === 'none' ? null : dir);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const startMb = hub.memoryMb();
    const cpuBefore = hub.cpuSeconds();
    const liveStart = Date.now();
    let t = start;
    while (Date.now() - liveStart < LIVE_MS) {
      t = Math.max(t + 1000, Math.floor(Date.now() / 1000) * 1000);
      await send(
        redis,
        agents.flatMap((agent) => agent.tick(t)),
      );
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, t + 1000 - Date.now())));
    }
    const cpuPercent = ((hub.cpuSeconds() - cpuBefore) * 100_000) / (Date.now() - liveStart);
    const endMb = hub.memoryMb();
    const peakMb = hub.peakMb?.() ?? null;
    return { hosts, dataDir, startMb, endMb, peakMb, cpuPercent, openHourMinutes: (Date.now() % HOUR) / 60_000 };
  } finally {
    await hub?.stop();
    await redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const hosts of HOSTS) {
  for (const dataDir of MODES) {
    const row = await run(hosts, dataDir);
    rows.push(row);
    console.log(
      `${hosts} hosts, --data-dir ${dataDir}: ${IN_PROCESS ? 'heap' : 'RSS'} ${row.startMb.toFixed(1)} MB after the replay, ${row.endMb.toFixed(1)} MB after ${LIVE_MS / 60_000} min live${row.peakMb === null ? '' : ` (peak ${row.peakMb.toFixed(1)} MB)`}; CPU ${row.cpuPercent.toFixed(2)} % of a core; the open hour ${row.openHourMinutes.toFixed(0)} min old`,
    );
  }
}
const what = IN_PROCESS ? 'heap after gc' : 'RSS';
console.log(`\n| hosts | ${what}, --data-dir none | ${what}, data directory | difference per host | hub CPU none / dir | open hour |`);
console.log('|---|---|---|---|---|---|');
for (const hosts of MODES.length === 2 ? HOSTS : []) {
  const none = rows.find((row) => row.hosts === hosts && row.dataDir === 'none') as Row;
  const dir = rows.find((row) => row.hosts === hosts && row.dataDir === 'dir') as Row;
  console.log(
    `| ${hosts} | ${none.endMb.toFixed(1)} MB | ${dir.endMb.toFixed(1)} MB | ${((dir.endMb - none.endMb) / hosts).toFixed(1)} MB | ${none.cpuPercent.toFixed(2)} / ${dir.cpuPercent.toFixed(2)} % | ${dir.openHourMinutes.toFixed(0)} min |`,
  );
}
console.log(
  `requests entries: ${(requestsBytes.data / requestsBytes.entries).toFixed(0)} bytes of sample JSON and ${(requestsBytes.buckets / requestsBytes.entries).toFixed(0)} bytes of buckets JSON on average`,
);
