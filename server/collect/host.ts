import { readFileSync } from 'node:fs';
import { arch, cpus, hostname, platform, release, totalmem, type, uptime } from 'node:os';
import si from 'systeminformation';
import type { HostInfo } from '../protocol.js';

/** `PRETTY_NAME` from /etc/os-release (Linux), without spawning anything. */
export function prettyNameFromOsRelease(text: string): string | null {
  const match = /^PRETTY_NAME=(?:"([^"]*)"|(.*))$/m.exec(text);
  return (match?.[1] ?? match?.[2] ?? '').trim() || null;
}

/** Inventory read once at start. On Linux from /etc/os-release and os; elsewhere systeminformation. */
export async function readHostInfo(): Promise<HostInfo> {
  const base: HostInfo = {
    hostname: hostname(),
    os: `${type()} ${release()}`,
    platform: platform(),
    release: release(),
    arch: arch(),
    cpuModel: cpus()[0]?.model?.trim() || 'unknown CPU',
    cores: cpus().length,
    memTotal: totalmem(),
    uptime: Math.round(uptime()),
  };
  if (platform() === 'linux') {
    try {
      return { ...base, os: prettyNameFromOsRelease(readFileSync('/etc/os-release', 'utf8')) ?? base.os };
    } catch {
      return base;
    }
  }
  try {
    const [os, cpu] = await Promise.all([si.osInfo(), si.cpu()]);
    return {
      ...base,
      os: `${os.distro} ${os.release}`.trim() || base.os,
      cpuModel: `${cpu.manufacturer} ${cpu.brand}`.trim() || base.cpuModel,
    };
  } catch {
    return base;
  }
}
