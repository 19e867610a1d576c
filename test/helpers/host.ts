import type { HostInfo } from '../../server/protocol.js';

/** A host's static facts for a Monitor under test: only the name matters to these tests. */
export function testHost(hostname: string): HostInfo {
  return { hostname, os: 'Debian', platform: 'linux', release: '6', arch: 'x64', cpuModel: 'cpu', cores: 1, memTotal: 1, uptime: 1 };
}
