import { statSync } from 'node:fs';
import { request } from 'node:http';
import { firstLine } from '../lib/errors.js';
import { printable } from '../lib/printable.js';

/** What the Docker or Podman API says of a running container. */
export interface EngineContainer {
  name: string;
  image: string;
}

export interface DockerNamesOptions {
  /** The whole list call, connect to last byte. */
  timeoutMs: number;
  /** How old the list may grow while every container is known. */
  refreshMs: number;
  /** Least time between two calls, so an unknown container (or a dead socket) costs one call per this. */
  minGapMs: number;
}

const DEFAULTS: DockerNamesOptions = { timeoutMs: 1000, refreshMs: 30_000, minGapMs: 5000 };
/** A list call's answer past this is not a container list we want to hold. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_NAME_LENGTH = 128;

/**
 * Container names from the Docker Engine API (Podman serves the same call) over its Unix socket: the list
 * call `GET /containers/json` only, never the stats endpoint, in the background. Sampling never waits for
 * it: `lookup` answers from the last good list, and a socket that is missing, hangs or answers garbage
 * leaves the names to the cgroup path.
 */
export class DockerNames {
  private names = new Map<string, EngineContainer>();
  private inFlight = false;
  private lastCallAt = Number.NEGATIVE_INFINITY;
  private lastListAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** The last call's failure, one line; null after a good list. */
  error: string | null = null;
  private readonly options: DockerNamesOptions;

  constructor(
    readonly socketPath: string,
    options: Partial<DockerNamesOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  lookup(containerId: string): EngineContainer | undefined {
    return this.names.get(containerId);
  }

  /** Asks for the list again when `ids` holds one it does not know or the list is old; returns at once. */
  refresh(now: number, ids: readonly string[]): void {
    if (this.closed || this.inFlight || now - this.lastCallAt < this.options.minGapMs) return;
    const stale = now - this.lastListAt >= this.options.refreshMs;
    if (!stale && ids.every((id) => this.names.has(id))) return;
    this.lastCallAt = now;
    // Most hosts have no Docker: a stat is all a missing socket costs, not a connection and its error every few seconds.
    if (!socketExists(this.socketPath)) {
      this.error = `no socket at ${this.socketPath} (ENOENT)`;
      return;
    }
    this.inFlight = true;
    listContainers(this.socketPath, this.options.timeoutMs)
      .then((names) => {
        this.names = names;
        this.lastListAt = Date.now();
        this.error = null;
      })
      .catch((error: unknown) => {
        this.error = firstLine(error);
      })
      .finally(() => {
        this.inFlight = false;
      });
  }

  close(): void {
    this.closed = true;
  }
}

function socketExists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true; // there, but not ours to stat: the call will say why
  }
}

function listContainers(socketPath: string, timeoutMs: number): Promise<Map<string, EngineContainer>> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/containers/json', method: 'GET', headers: { host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error(`container list larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) return reject(new Error(`container list answered HTTP ${res.statusCode}`));
        try {
          resolve(parseContainerList(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        } catch (error) {
          reject(error);
        }
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`container list took over ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** The answer of `GET /containers/json`, checked: entries without a 64-hex `Id` and a name are skipped. */
export function parseContainerList(body: unknown): Map<string, EngineContainer> {
  if (!Array.isArray(body)) throw new Error('container list is not a JSON array');
  const names = new Map<string, EngineContainer>();
  for (const entry of body as unknown[]) {
    if (entry === null || typeof entry !== 'object') continue;
    const { Id, Names, Image } = entry as Record<string, unknown>;
    const first = Array.isArray(Names) ? Names[0] : undefined;
    if (typeof Id !== 'string' || !/^[0-9a-f]{64}$/.test(Id) || typeof first !== 'string') continue;
    const name = printable(first.replace(/^\//, ''), MAX_NAME_LENGTH);
    if (name === '') continue;
    names.set(Id, { name, image: typeof Image === 'string' ? printable(Image, MAX_NAME_LENGTH) : '' });
  }
  return names;
}
