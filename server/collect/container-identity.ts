import type { ContainerKind } from '../protocol.js';
import type { DockerNames } from './docker-names.js';

/** What a cgroup path says about its container: the engine, a name, and the engine's container id. */
export interface CgroupIdentity {
  kind: ContainerKind;
  name: string;
  /** The 64-hex container id of Docker, Podman or a Kubernetes runtime; null for other cgroups. */
  containerId: string | null;
}

const HEX64 = '([0-9a-f]{64})';
/** Last path segments of runtime-made cgroups, under the systemd and the cgroupfs drivers. */
const RUNTIME_SEGMENTS: [RegExp, ContainerKind][] = [
  [new RegExp(`^docker-${HEX64}\\.scope$`), 'docker'],
  [new RegExp(`^libpod-${HEX64}\\.scope$`), 'podman'],
  [new RegExp(`^(?:cri-containerd|crio|cri-o)-${HEX64}\\.scope$`), 'kubernetes'],
];
const POD = /(?:^|\/)(?:kubepods[^/]*-)?pod([0-9a-f]{8})[0-9a-f_-]{28}(?:\.slice)?(?:\/|$)/;
const SYSTEMD_UNIT = /^[^/]+\.(?:service|scope|slice|socket|mount|swap)$/;

/**
 * Reads the container from its cgroup path: `/system.slice/docker-<id>.scope` and `/docker/<id>` are Docker,
 * `libpod-<id>.scope` Podman, anything under a `kubepods` pod Kubernetes, `*.service` and `*.scope`
 * systemd units; any other cgroup is named by its last segment. Ids are shortened to 12 characters, as
 * `docker ps` shows them.
 */
export function identifyCgroup(path: string): CgroupIdentity {
  const segments = path.split('/').filter((segment) => segment !== '');
  const last = segments.at(-1) ?? '/';
  const parent = segments.at(-2) ?? '';
  for (const [pattern, kind] of RUNTIME_SEGMENTS) {
    const match = pattern.exec(last);
    if (match) return runtime(path, match[1] as string, kind);
  }
  if (/^[0-9a-f]{64}$/.test(last)) {
    if (parent === 'docker') return runtime(path, last, 'docker');
    if (parent === 'libpod_parent' || parent.startsWith('libpod')) return runtime(path, last, 'podman');
    if (path.includes('kubepods')) return runtime(path, last, 'kubernetes');
  }
  if (SYSTEMD_UNIT.test(last)) return { kind: 'systemd', name: last, containerId: null };
  return { kind: 'cgroup', name: last, containerId: null };
}

function runtime(path: string, id: string, kind: ContainerKind): CgroupIdentity {
  const short = id.slice(0, 12);
  const pod = kind === 'kubernetes' ? POD.exec(path) : null;
  return { kind, name: pod ? `pod ${pod[1]}/${short}` : short, containerId: id };
}

/** The name the containers topic shows for a cgroup: the Docker/Podman name when known, else one from the path. */
export function containerName(path: string, dockerNames: DockerNames | null): string {
  const identity = identifyCgroup(path);
  return (identity.containerId && dockerNames?.lookup(identity.containerId)?.name) || identity.name;
}
