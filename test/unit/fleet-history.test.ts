import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetHistory, HOSTS_DIR } from '../../server/fleet/fleet-history.js';
import { DEFAULT_RETENTION, type Retention } from '../../server/history/tiers.js';
import type { CpuSample } from '../../server/protocol.js';

const HOUR = 3_600_000;
const root = mkdtempSync(join(tmpdir(), 'pulseboard-fleet-history-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cpu = (t: number): CpuSample => ({ t, total: 5, user: 5, system: 0, iowait: 0, cores: [5], load: [1, 1, 1] });
const files = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => /\.(cols|ndjson\.gz)$/.test(path));

describe("a hub's durable history", () => {
  it('keeps the files of a host no longer served, and its sweep applies retention to them', async () => {
    const dataDir = join(root, 'gone');
    const hostDir = join(dataDir, HOSTS_DIR, 'gone-1');
    const first = FleetHistory.open({ dataDir, retention: DEFAULT_RETENTION }, () => {});
    const store = first.store('gone-1', HOUR);
    if (!store) throw new Error('no store');
    // An hour of two days ago: sealed on the next tick into a raw segment (not written: older than 24 h) and 1m, 10m, 1h rows.
    const hour = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR;
    for (let t = hour; t < hour + HOUR; t += 60_000) store.record('cpu', cpu(t));
    await store.tick();
    first.release('gone-1');
    first.close();
    expect(files(hostDir).sort()).toEqual([
      expect.stringMatching(/^10m\//),
      expect.stringMatching(/^1h\//),
      expect.stringMatching(/^1m\//),
    ]);

    // The next start (the host still gone), with the 1-minute tier kept a day: the sweep deletes that file only.
    const shorter: Retention = { ...DEFAULT_RETENTION, '1m': 24 * HOUR };
    const second = FleetHistory.open({ dataDir, retention: shorter }, () => {});
    await second.sweep([]);
    expect(files(hostDir).sort()).toEqual([expect.stringMatching(/^10m\//), expect.stringMatching(/^1h\//)]);
    expect(second.status()).toMatchObject({ writing: true, hosts: 0 });
    second.close();
  });

  it("tells a host's board that its store stopped writing, also when the sweep had that store open as the host came back", async () => {
    const dataDir = join(root, 'claimed');
    const history = FleetHistory.open({ dataDir, retention: DEFAULT_RETENTION }, () => {});
    const seed = history.store('back-1', HOUR);
    if (!seed) throw new Error('no store');
    seed.record('cpu', cpu(Date.now() - 2000));
    await seed.tick();
    history.release('back-1'); // gone from Redis; its files stay

    // The sweep opens the host's directory; the host comes back while it works, and its board claims that store.
    const sweeping = history.sweep([]);
    let told = 0;
    const store = history.store('back-1', HOUR, () => told++);
    await sweeping;
    if (!store) throw new Error('no store');

    const hostDir = join(dataDir, HOSTS_DIR, 'back-1');
    rmSync(hostDir, { recursive: true, force: true });
    writeFileSync(hostDir, 'not a directory\n');
    store.record('cpu', cpu(Date.now() - 1000));
    await store.tick();
    expect(store.status().writing).toBe(false);
    expect(told).toBe(1);
    history.close();
  });
});
