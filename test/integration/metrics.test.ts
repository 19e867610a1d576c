import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Collector } from '../../server/collect/collector.js';
import { cgroupContainersCollector } from '../../server/collect/containers.js';
import type { RunningServer } from '../../server/serve.js';
import { cgroupV2Tree, DOCKER_ID, procTree, tempDir, writeTree } from '../fixtures/cgroup-trees.js';
import { startTestServer } from '../helpers/server.js';

type Family = { name: string; type: string; help: string; metrics: { value?: string; labels?: Record<string, string> }[] };

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Scrapes /metrics and parses it with a Prometheus text-format parser (it throws on a malformed line). */
async function scrape(url: string): Promise<{ contentType: string; families: Map<string, Family>; untyped: Map<string, Family> }> {
  const response = await fetch(`${url}metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const families = new Map((parsePrometheus(text) as Family[]).map((family) => [family.name, family]));
  // The parser folds a histogram's series into one; without the TYPE lines each _bucket/_sum/_count line keeps its labels.
  const withoutTypes = text
    .split('\n')
    .filter((line) => !line.startsWith('# TYPE'))
    .join('\n');
  // Untyped, one series' lines come as their own group: gather the groups of each name.
  const untyped = new Map<string, Family>();
  for (const family of parsePrometheus(withoutTypes) as Family[]) {
    const known = untyped.get(family.name);
    if (known) known.metrics.push(...family.metrics);
    else untyped.set(family.name, family);
  }
  return { contentType: response.headers.get('content-type') ?? '', families, untyped };
}

const sampleValue = (family: Family | undefined, labels: Record<string, string> = {}) =>
  Number(family?.metrics.find((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value))?.value);

describe('GET /metrics', () => {
  it('exports every panel in the Prometheus text format, in base units and ratios', async () => {
    server = await startTestServer({ intervalMs: 100 });
    const running = server;
    // Every collector has published once (filesystems are sampled at start, which takes longer on a busy machine).
    await vi.waitFor(() => expect(running.monitor.topics.filter((topic) => !running.monitor.hub.latest(topic))).toEqual([]), {
      timeout: 10_000,
      interval: 50,
    });
    const { contentType, families } = await scrape(server.url);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const host = server.monitor.host.hostname;

    const gauges = [
      'pulseboard_cpu_usage_ratio',
      'pulseboard_cpu_mode_usage_ratio',
      'pulseboard_cpu_core_usage_ratio',
      'pulseboard_load_average',
      'pulseboard_memory_total_bytes',
      'pulseboard_memory_used_bytes',
      'pulseboard_memory_available_bytes',
      'pulseboard_network_receive_bytes_per_second',
      'pulseboard_disk_read_bytes_per_second',
      'pulseboard_filesystem_size_bytes',
      'pulseboard_filesystem_used_bytes',
      'pulseboard_process_resident_memory_bytes',
      'pulseboard_event_loop_lag_seconds',
      'pulseboard_event_loop_utilization_ratio',
      'pulseboard_collector_up',
      'pulseboard_sse_clients',
    ];
    for (const name of gauges) {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect(family?.type, name).toBe('GAUGE');
      expect(
        family?.metrics.every((metric) => metric.labels?.host === host),
        name,
      ).toBe(true);
    }
    const cpu = sampleValue(families.get('pulseboard_cpu_usage_ratio'));
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
    // Same figures as the stream's newest samples: percent becomes a ratio, bytes stay bytes.
    const memory = server.monitor.hub.latest('memory')?.data;
    expect(sampleValue(families.get('pulseboard_memory_total_bytes'))).toBe(memory?.total);
    const cores = families.get('pulseboard_cpu_core_usage_ratio')?.metrics.length;
    expect(cores).toBe(server.monitor.hub.latest('cpu')?.data.cores.length);
    expect(sampleValue(families.get('pulseboard_collector_up'), { topic: 'cpu' })).toBe(1);
    // Processes by the same short name, user and container as the page shows them.
    const top = server.monitor.hub.latest('processes')?.data.top[0];
    const series = families.get('pulseboard_top_process_resident_memory_bytes')?.metrics.find((m) => m.labels?.pid === String(top?.pid));
    expect(series?.labels).toMatchObject({ name: top?.name, user: top?.user, container: top?.container ?? '' });
    expect(top?.name).not.toBe('');
  });

  it('has request latency as a histogram by route pattern and status class', async () => {
    server = await startTestServer({ intervalMs: 1000 });
    for (let i = 0; i < 5; i++) await (await fetch(`${server.url}api/snapshot`)).arrayBuffer();
    await (await fetch(`${server.url}api/history?since=nonsense`)).arrayBuffer();
    const { families, untyped } = await scrape(server.url);
    expect(families.get('pulseboard_http_request_duration_seconds')?.type).toBe('HISTOGRAM');

    const count = (labels: Record<string, string>) => sampleValue(untyped.get('pulseboard_http_request_duration_seconds_count'), labels);
    expect(count({ route: 'GET /api/snapshot', status_class: '2xx' })).toBe(5);
    expect(count({ route: 'GET /api/history', status_class: '4xx' })).toBe(1);

    // Buckets are cumulative and the +Inf bucket is the count.
    const buckets = untyped
      .get('pulseboard_http_request_duration_seconds_bucket')
      ?.metrics.filter((metric) => metric.labels?.route === 'GET /api/snapshot' && metric.labels?.status_class === '2xx');
    const values = (buckets ?? []).map((metric) => Number(metric.value));
    expect(values.length).toBeGreaterThan(5);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(buckets?.find((metric) => metric.labels?.le === '+Inf')?.value).toBe('5');
    const sum = sampleValue(untyped.get('pulseboard_http_request_duration_seconds_sum'), {
      route: 'GET /api/snapshot',
      status_class: '2xx',
    });
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(5); // seconds, not milliseconds
  });

  it('with --proxy, has the histogram of the proxied traffic, and not of the dashboard own routes', async () => {
    const app = createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200);
      res.end('ok');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      server = await startTestServer({ proxy: new URL(`http://127.0.0.1:${(app.address() as AddressInfo).port}`), proxyPort: 0 });
      const proxied = server.proxy?.url as string;
      for (let i = 0; i < 3; i++) await (await fetch(`${proxied}orders/${1000 + i}`)).arrayBuffer();
      await (await fetch(`${proxied}missing`)).arrayBuffer();
      await (await fetch(`${server.url}api/snapshot`)).arrayBuffer();
      const { families, untyped } = await scrape(server.url);
      expect(families.get('pulseboard_http_request_duration_seconds')?.type).toBe('HISTOGRAM');
      const counts = untyped.get('pulseboard_http_request_duration_seconds_count');
      expect(sampleValue(counts, { route: 'GET /orders/:id', status_class: '2xx' })).toBe(3);
      expect(sampleValue(counts, { route: 'GET /missing', status_class: '4xx' })).toBe(1);
      expect(counts?.metrics.some((metric) => metric.labels?.route?.startsWith('GET /api/'))).toBe(false);
    } finally {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it('exports the containers of the containers topic, labelled by id, name and kind', async () => {
    const cgroupRoot = tempDir('pulseboard-cgroup-');
    const procRoot = tempDir('pulseboard-proc-');
    writeTree(cgroupRoot, cgroupV2Tree({ cpuUsec: 1000, ioRead: 4096, ioWrite: 0 }));
    writeTree(procRoot, procTree({ rx: 0, tx: 0 }));
    const containers = cgroupContainersCollector({ cadenceMs: 5000, cgroupRoot, procRoot, dockerNames: null }) as Collector;
    server = await startTestServer({}, { collectors: [containers] });
    const running = server;
    await vi.waitFor(() => expect(running.monitor.hub.latest('containers')).toBeDefined(), { timeout: 10_000 });
    const { families } = await scrape(server.url);
    const docker = { id: `/system.slice/docker-${DOCKER_ID}.scope`, name: DOCKER_ID.slice(0, 12), kind: 'docker' };
    expect(sampleValue(families.get('pulseboard_containers'))).toBe(3);
    expect(sampleValue(families.get('pulseboard_container_memory_bytes'), docker)).toBe(157286400 - 41943040);
    expect(sampleValue(families.get('pulseboard_container_memory_limit_bytes'), docker)).toBe(536870912);
    expect(sampleValue(families.get('pulseboard_container_tasks'), docker)).toBe(12);
    expect(sampleValue(families.get('pulseboard_container_memory_bytes'), { name: 'nginx.service', kind: 'systemd' })).toBe(4194304);
    // No limit is no series, rather than a made-up number.
    expect(families.get('pulseboard_container_memory_limit_bytes')?.metrics.some((m) => m.labels?.name === 'nginx.service')).toBe(false);
  });

  it('needs the token like every route but /healthz', async () => {
    const token = 'metrics-token-0123456789';
    server = await startTestServer({ token });
    expect((await fetch(`${server.url}metrics`)).status).toBe(401);
    const response = await fetch(`${server.url}metrics`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const names = (parsePrometheus(await response.text()) as Family[]).map((family) => family.name);
    expect(names).toContain('pulseboard_info');
  });
});
