import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startProcess } from './procs.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Where a server's busy CPU went under load, by the CPU profile's samples, as shares of its busy samples. */
export interface ProfileShares {
  /** Samples whose nearest JavaScript frame is in the middleware or the statistics it feeds. */
  ours: number;
  /** Samples whose nearest JavaScript frame is Hono's compose (the hop any middleware pays). */
  hop: number;
  busySamples: number;
}

/** The app measured by the middleware, and measured from outside it (`measuredFetch`). */
export interface MiddlewareShares {
  measured: ProfileShares;
  wrapped: ProfileShares;
  command: string;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** µs on the monotonic clock (as `process.hrtime`), and each sample's distance from the one before. */
  startTime: number;
  timeDeltas: number[];
}

const OURS = /\/server\/(requests\/(middleware|measured-fetch|stats)|lib\/latency)\.ts$/;
/** Our functions whose whole call tree is ours, Hono's code they call included (the second route match). */
const OURS_WITH_CALLEES = new Set(['answeringRoute']);
const HOP = /\/hono\/dist\/compose\.js$/;
/** Frames that run for whoever called them: Node's internals and V8's natives (no file URL). */
const isRuntimeFrame = (url: string) => url === '' || url.startsWith('node:');

/**
 * Splits a profile's busy samples by the nearest JavaScript file on each sample's stack, leaf first: a Node
 * internal our middleware called (adding the `close` listener, `socket.bytesWritten`) counts as ours, and
 * everything the handler does under our `next()` counts as the handler's.
 */
export function sharesOfProfile(profile: CpuProfile, fromMicros = 0): { ours: number; hop: number; busy: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const ownerOf = new Map<number, 'ours' | 'hop' | 'other' | 'idle'>();
  const owner = (id: number): 'ours' | 'hop' | 'other' | 'idle' => {
    const known = ownerOf.get(id);
    if (known) return known;
    let found: 'ours' | 'hop' | 'other' | 'idle' = 'other';
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)') found = 'idle';
    else {
      for (let frame: number | undefined = id; frame !== undefined; frame = parentOf.get(frame)) {
        const url = byId.get(frame)?.callFrame.url ?? '';
        if (isRuntimeFrame(url)) continue;
        found = OURS.test(url) ? 'ours' : HOP.test(url) ? 'hop' : 'other';
        break;
      }
      for (let frame: number | undefined = id; found === 'other' && frame !== undefined; frame = parentOf.get(frame)) {
        const callFrame = byId.get(frame)?.callFrame;
        if (callFrame && OURS_WITH_CALLEES.has(callFrame.functionName) && OURS.test(callFrame.url)) found = 'ours';
      }
    }
    ownerOf.set(id, found);
    return found;
  };
  let ours = 0;
  let hop = 0;
  let busy = 0;
  let at = profile.startTime;
  for (const [i, sample] of profile.samples.entries()) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromMicros) continue; // start-up and warm-up
    const who = owner(sample);
    if (who === 'idle') continue;
    busy++;
    if (who === 'ours') ours++;
    else if (who === 'hop') hop++;
  }
  return { ours, hop, busy };
}

async function profileShares(mode: 'measured' | 'wrapped', seconds: number): Promise<ProfileShares> {
  const dir = mkdtempSync(join(tmpdir(), 'pulseboard-bench-mw-profile-'));
  try {
    const app = await startProcess(process.execPath, [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      '--cpu-prof-interval',
      '100',
      '--import',
      'tsx',
      join(ROOT, 'test/bench/apps/hono-app.ts'),
      mode,
    ]);
    await autocannon({ url: `${app.url}/users/42`, connections: 32, duration: 1 }); // warm-up
    const measuredFrom = Number(process.hrtime.bigint() / 1000n);
    await autocannon({ url: `${app.url}/users/42`, connections: 32, duration: seconds });
    await app.stop(); // SIGTERM: the app exits, and Node writes the profile on exit
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no CPU profile written in ${dir}`);
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const { ours, hop, busy } = sharesOfProfile(profile, measuredFrom);
    return { ours: ours / busy, hop: hop / busy, busySamples: busy };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The bench app measured by our middleware, then from outside (`measuredFetch`), under autocannon, profiled
 * (`--cpu-prof`, 100 µs): what share of the server's busy CPU is the measuring's own work. A ratio inside one
 * process, so the machine's neighbours, which move req/s and CPU per request by ±10 % from run to run, do
 * not move it.
 */
export async function benchMiddlewareProfile(seconds: number): Promise<MiddlewareShares> {
  return {
    measured: await profileShares('measured', seconds),
    wrapped: await profileShares('wrapped', seconds),
    command: `node --cpu-prof --cpu-prof-interval 100 test/bench/apps/hono-app.ts {measured|wrapped}, autocannon -c 32 -d ${seconds} /users/42 after 1 s warm-up; samples by the nearest JavaScript file on their stack (the route match of measuredFetch counted as ours)`,
  };
}
