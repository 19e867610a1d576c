import { accessSync, constants } from 'node:fs';
import { platform } from 'node:os';
import type { Collector, CollectorOptions } from './collector.js';
import { containerName } from './container-identity.js';
import { cgroupContainersCollector } from './containers.js';
import { portableCpuCollector, procfsCpuCollector } from './cpu.js';
import { portableDiskCollector, procfsDiskCollector } from './disk.js';
import { DockerNames } from './docker-names.js';
import { portableFilesystemCollector, procfsFilesystemCollector } from './filesystem.js';
import { portableMemoryCollector, procfsMemoryCollector } from './memory.js';
import { portableNetworkCollector, procfsNetworkCollector } from './network.js';
import { processCollector } from './process.js';
import { UserNames } from './process-details.js';
import { pageSizeFromStatm, portableProcessesCollector, procfsProcessesCollector } from './processes.js';
import { portableTemperatureCollector, sysfsTemperatureCollector } from './temperature.js';

export const DEFAULT_EXCLUDE_INTERFACES =
  /^(lo\d*|ifb\d+|veth.*|docker\d*|br-.*|virbr.*|cni.*|flannel.*|cali.*|vxlan.*|tun\d*|tap.*|kube-.*|cilium.*|weave.*|lxc.*|genev_sys.*)$/;
export const DEFAULT_EXCLUDE_FS_TYPES =
  /^(tmpfs|devtmpfs|overlay|squashfs|proc|sysfs|cgroup2?|nsfs|autofs|fuse\.lxcfs|ramfs|efivarfs|tracefs|debugfs|securityfs|pstore|bpf|configfs|mqueue|hugetlbfs|devpts|fusectl|binfmt_misc|rpc_pipefs|nfsd|selinuxfs|none)$/;

/** Top processes are listed every 5 s: a full /proc walk at 1 Hz would cost more than everything else. */
export const PROCESSES_INTERVAL_MS = 5000;
/**
 * While no stream wants the processes topic (no page open), the walk runs once a minute instead: it was the
 * largest collector cost of an idle server (~0.7 ms of CPU per second). /metrics and history then have a list
 * up to a minute old; a page that opens gets a fresh one at once.
 */
export const PROCESSES_IDLE_INTERVAL_MS = 60_000;

/** Containers every 5 s, like processes: the cgroup walk is cheap, but their numbers move slowly. */
export const CONTAINERS_INTERVAL_MS = 5000;

function procfsReadable(procRoot: string): boolean {
  if (platform() !== 'linux') return false;
  try {
    for (const file of ['stat', 'meminfo', 'net/dev', 'diskstats', 'loadavg']) accessSync(`${procRoot}/${file}`, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The host's collectors: /proc and /sys on Linux (no process spawned at the sampling interval),
 * systeminformation elsewhere or with `portable`. Baselines are taken here, so the first tick has rates.
 */
export async function createCollectors(options: CollectorOptions): Promise<Collector[]> {
  const { intervalMs } = options;
  const procRoot = options.procfs ?? '/proc';
  const sysRoot = options.sysfs ?? '/sys';
  const interfaces = { exclude: options.excludeInterfaces, maxItems: options.maxItems };
  const useProcfs = !options.portable && procfsReadable(procRoot);
  const collectors: Collector[] = useProcfs
    ? [
        procfsCpuCollector(intervalMs, procRoot),
        procfsMemoryCollector(intervalMs, procRoot),
        procfsNetworkCollector(intervalMs, interfaces, procRoot),
        procfsDiskCollector(intervalMs, procRoot, `${sysRoot}/block`),
      ]
    : [
        portableCpuCollector(intervalMs),
        portableMemoryCollector(intervalMs),
        portableNetworkCollector(intervalMs, interfaces),
        portableDiskCollector(intervalMs),
      ];
  const mounts = { excludeTypes: options.excludeFsTypes, maxItems: options.maxItems };
  collectors.push(
    useProcfs
      ? procfsFilesystemCollector(options.filesystemIntervalMs, mounts)
      : portableFilesystemCollector(options.filesystemIntervalMs, mounts),
  );
  const temperature = useProcfs
    ? sysfsTemperatureCollector(Math.max(intervalMs, 5000), `${sysRoot}/class`, options.maxItems)
    : await portableTemperatureCollector(Math.max(intervalMs, 10_000));
  if (temperature) collectors.push(temperature);
  collectors.push(processCollector(intervalMs));
  const processesCadence = Math.max(intervalMs, PROCESSES_INTERVAL_MS);
  // One list of Docker/Podman names for both: a process's container is named as the containers topic names it.
  const dockerNames = useProcfs && options.dockerSocket ? new DockerNames(options.dockerSocket) : null;
  // The host's users are in the host's /etc/passwd: through its init's root when /proc is the host's, mounted.
  const passwd = procRoot === '/proc' ? '/etc/passwd' : `${procRoot}/1/root/etc/passwd`;
  const naming = { users: new UserNames(passwd), containerOf: (cgroup: string) => containerName(cgroup, dockerNames) };
  const processes = useProcfs
    ? procfsProcessesCollector(processesCadence, pageSizeFromStatm(), naming, procRoot)
    : portableProcessesCollector(Math.max(processesCadence, 10_000));
  collectors.push({ ...processes, idleCadenceMs: Math.max(processes.cadenceMs, PROCESSES_IDLE_INTERVAL_MS) });
  const containers = useProcfs
    ? cgroupContainersCollector({
        cadenceMs: Math.max(intervalMs, CONTAINERS_INTERVAL_MS),
        cgroupRoot: `${sysRoot}/fs/cgroup`,
        procRoot,
        dockerNames,
      })
    : null;
  if (containers) collectors.push(containers);
  await Promise.all(collectors.map((collector) => collector.init?.()));
  return collectors;
}
