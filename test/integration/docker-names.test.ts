import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cgroupContainersCollector } from '../../server/collect/containers.js';
import { DockerNames } from '../../server/collect/docker-names.js';
import type { ContainersSample } from '../../server/protocol.js';
import { cgroupV2Tree, DOCKER_ID, procTree, tempDir, writeTree } from '../fixtures/cgroup-trees.js';

const DOCKER_PATH = `/system.slice/docker-${DOCKER_ID}.scope`;
const closers: (() => void)[] = [];

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function listen(server: HttpServer | NetServer): Promise<string> {
  const socketPath = join(tempDir('pulseboard-docker-'), 'docker.sock');
  closers.push(() => server.close());
  return new Promise((resolve) => server.listen(socketPath, () => resolve(socketPath)));
}

/** The fixture host's collector, naming through `names`. */
function collectorWith(names: DockerNames) {
  const cgroupRoot = tempDir('pulseboard-cgroup-');
  const procRoot = tempDir('pulseboard-proc-');
  writeTree(cgroupRoot, cgroupV2Tree({ cpuUsec: 1, ioRead: 4096, ioWrite: 0 }));
  writeTree(procRoot, procTree({ rx: 0, tx: 0 }));
  const collector = cgroupContainersCollector({ cadenceMs: 5000, cgroupRoot, procRoot, dockerNames: names });
  if (!collector) throw new Error('no cgroup layout in the fixture');
  closers.push(() => collector.close?.());
  const sample = (t: number) => {
    const result = collector.sample(t);
    // Synchronous by construction: whatever the socket does, sampling cannot wait for it.
    expect(result).not.toBeInstanceOf(Promise);
    return (result as ContainersSample).top.find((c) => c.id === DOCKER_PATH);
  };
  return { sample };
}

describe('container names from the Docker API on a Unix socket', () => {
  it('names containers from the list call, and makes no other call', async () => {
    const calls: string[] = [];
    const api = createHttpServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ Id: DOCKER_ID, Names: ['/shop-web'], Image: 'shop/web:2.4', State: 'running' }]));
    });
    const names = new DockerNames(await listen(api), { minGapMs: 0 });
    const { sample } = collectorWith(names);
    expect(sample(1000)).toMatchObject({ name: DOCKER_ID.slice(0, 12), image: null }); // the list is not in yet
    await vi.waitFor(() => expect(names.lookup(DOCKER_ID)).toBeDefined(), { timeout: 10_000 });
    expect(sample(2000)).toMatchObject({ name: 'shop-web', image: 'shop/web:2.4', kind: 'docker' });
    expect(new Set(calls)).toEqual(new Set(['GET /containers/json']));
  });

  it('falls back to the path when the socket hangs, and gives up on the call at the timeout', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    const hanging = createNetServer((socket) => {
      sockets.push(socket); // accepts and reads, never answers
      socket.resume();
      socket.on('close', () => closed++);
    });
    closers.push(() => {
      for (const socket of sockets) socket.destroy();
    });
    const names = new DockerNames(await listen(hanging), { timeoutMs: 300, minGapMs: 0 });
    const { sample } = collectorWith(names);
    expect(sample(1000)?.name).toBe(DOCKER_ID.slice(0, 12));
    await vi.waitFor(() => expect(sockets.length).toBe(1), { timeout: 10_000 });
    expect(sample(2000)?.name).toBe(DOCKER_ID.slice(0, 12)); // while the call hangs, no second one and no wait
    await vi.waitFor(() => expect(names.error).toBe('container list took over 300 ms'), { timeout: 10_000 });
    await vi.waitFor(() => expect(closed).toBe(1), { timeout: 10_000 }); // we hung up: nothing left open
    expect(sockets.length).toBe(1);
  });

  it.each([
    ['JSON that is not a list', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{"message":"not a list"}'],
    ['a body that is not JSON', 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!'],
    ['bytes that are not HTTP', '\x00\x01garbage\r\n\r\n'],
    ['an error status', 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}'],
  ])('falls back to the path on %s', async (_, answer) => {
    const garbage = createNetServer((socket) => {
      socket.once('data', () => socket.end(answer));
      socket.on('error', () => {});
    });
    const names = new DockerNames(await listen(garbage), { minGapMs: 0 });
    const { sample } = collectorWith(names);
    sample(1000);
    await vi.waitFor(() => expect(names.error).not.toBeNull(), { timeout: 10_000 });
    expect(names.error).not.toContain('\n');
    expect(sample(2000)).toMatchObject({ name: DOCKER_ID.slice(0, 12), image: null });
  });

  it('falls back to the path when there is no socket', async () => {
    const names = new DockerNames(join(tempDir('pulseboard-docker-'), 'missing.sock'), { minGapMs: 0 });
    const { sample } = collectorWith(names);
    sample(1000);
    await vi.waitFor(() => expect(names.error).toContain('ENOENT'), { timeout: 10_000 });
    expect(sample(2000)?.name).toBe(DOCKER_ID.slice(0, 12));
  });

  it('opens no connection and arms no timer while the socket is missing, and uses it once it appears', async () => {
    const socketPath = join(tempDir('pulseboard-docker-'), 'docker.sock');
    const names = new DockerNames(socketPath, { minGapMs: 0 });
    const before = process.getActiveResourcesInfo().length;
    names.refresh(1000, [DOCKER_ID]);
    expect(names.error).toContain('ENOENT');
    expect(process.getActiveResourcesInfo().length).toBe(before);
    const api = createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ Id: DOCKER_ID, Names: ['/shop-web'], Image: 'shop/web:2.4' }]));
    });
    closers.push(() => api.close());
    await new Promise<void>((resolve) => api.listen(socketPath, resolve));
    names.refresh(2000, [DOCKER_ID]);
    await vi.waitFor(() => expect(names.lookup(DOCKER_ID)?.name).toBe('shop-web'), { timeout: 10_000 });
    expect(names.error).toBeNull();
  });
});
