import { spawnSync } from 'node:child_process';

/** The Dockerfile's default base (its `ARG NODE_IMAGE`). */
export const DEFAULT_NODE_IMAGE = 'node:20.20-alpine';

export interface ContainerEngine {
  cli: 'docker' | 'podman';
  /** The base both stages are built on: `--build-arg NODE_IMAGE=<base>`. */
  base: string;
}

/**
 * Docker with a daemon, or podman, that can build the image here and now: its base (PULSEBOARD_NODE_IMAGE,
 * else node:20.20-alpine) is already present, so nothing is pulled and a machine without one costs a
 * second, not minutes. Otherwise the reasons, one per engine tried.
 */
export function findContainerEngine(env: NodeJS.ProcessEnv = process.env): ContainerEngine | { why: string } {
  const base = env.PULSEBOARD_NODE_IMAGE || DEFAULT_NODE_IMAGE;
  const reasons: string[] = [];
  for (const cli of ['docker', 'podman'] as const) {
    const info = spawnSync(cli, ['info'], { encoding: 'utf8', timeout: 30_000 });
    if (info.error) {
      reasons.push(`no ${cli} CLI`);
      continue;
    }
    if (info.status !== 0) {
      reasons.push(`\`${cli} info\` fails (no daemon?)`);
      continue;
    }
    const present = spawnSync(cli, ['image', 'inspect', base], { encoding: 'utf8', timeout: 30_000 });
    if (present.status !== 0) {
      reasons.push(
        `${cli} has no ${base} image (pull it, or make a stand-in with scripts/node-base-image.sh and set PULSEBOARD_NODE_IMAGE to it)`,
      );
      continue;
    }
    return { cli, base };
  }
  return { why: reasons.join('; ') };
}
