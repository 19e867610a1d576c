import { Gauge, Registry } from 'prom-client';
import type { SampleByTopic, Topic } from '../protocol.js';
import type { RequestStats } from '../requests/stats.js';
import type { Board, Boards } from '../stream/board.js';
import { RequestMetrics } from './request-metrics.js';

const ratio = (percent: number) => percent / 100;

type GaugeSpec = { help: string; labels?: string[] };

/**
 * Everything the dashboard shows, in the Prometheus text format (`GET /metrics`). Gauges are filled from
 * each board's newest samples at scrape time, labelled by `host`; request latency is a histogram observed
 * on every request this process measures, by route pattern and status class.
 */
export class PrometheusExport {
  private readonly registry = new Registry();
  private readonly gauges = new Map<string, Gauge>();
  private readonly requestMetrics: RequestMetrics | null = null;

  constructor(
    private readonly boards: Boards,
    requests: RequestStats | null,
  ) {
    if (requests) {
      this.requestMetrics = new RequestMetrics();
      this.observeRequests(requests, this.requestMetrics);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    for (const gauge of this.gauges.values()) gauge.reset();
    for (const board of this.boards.all()) this.fill(board);
    const gauges = await this.registry.metrics();
    return this.requestMetrics === null ? gauges : `${gauges}\n${this.requestMetrics.text()}`;
  }

  private observeRequests(requests: RequestStats, metrics: RequestMetrics): void {
    new Gauge({
      name: 'pulseboard_http_requests_in_flight',
      help: 'Requests received and not yet answered',
      registers: [this.registry],
      collect() {
        this.set(requests.requestsInFlight);
      },
    });
    requests.onRequestEnded((route, statusClass, ms, sent) => metrics.observe(route, statusClass, ms / 1000, sent));
  }

  private gauge(name: string, spec: GaugeSpec): Gauge {
    let gauge = this.gauges.get(name);
    if (!gauge) {
      gauge = new Gauge({ name, help: spec.help, labelNames: ['host', ...(spec.labels ?? [])], registers: [this.registry] });
      this.gauges.set(name, gauge);
    }
    return gauge;
  }

  private set(name: string, spec: GaugeSpec, labels: Record<string, string>, value: number): void {
    if (Number.isFinite(value)) this.gauge(name, spec).set(labels, value);
  }

  private fill(board: Board): void {
    const host = board.name;
    const latest = <T extends Topic>(topic: T): SampleByTopic[T] | undefined =>
      board.hub.latest(topic)?.data as SampleByTopic[T] | undefined;
    const set = (name: string, help: string, value: number, labels: Record<string, string> = {}) =>
      this.set(name, { help, labels: Object.keys(labels) }, { host, ...labels }, value);

    set('pulseboard_info', 'Always 1; labels tell the pulseboard version', 1, { version: board.version });
    set('pulseboard_sse_clients', 'Event streams open to this board', board.streams.count);
    for (const health of board.health()) {
      set('pulseboard_collector_up', '1 while the collector of a topic succeeds, 0 while it fails', health.ok ? 1 : 0, {
        topic: health.topic,
      });
    }
    const firing = new Set(board.activeAlerts().map((alert) => `${alert.rule}\u0000${alert.severity}`));
    for (const key of firing) {
      const [rule = '', severity = ''] = key.split('\u0000');
      set('pulseboard_alert_firing', '1 for each alert rule firing now', 1, { rule, severity });
    }

    const cpu = latest('cpu');
    if (cpu) {
      set('pulseboard_cpu_usage_ratio', 'Share of all CPU time spent busy over the last sample', ratio(cpu.total));
      for (const mode of ['user', 'system', 'iowait'] as const) {
        set('pulseboard_cpu_mode_usage_ratio', 'Share of all CPU time by mode', ratio(cpu[mode]), { mode });
      }
      cpu.cores.forEach((busy, core) => {
        set('pulseboard_cpu_core_usage_ratio', 'Share of one core busy', ratio(busy), { core: String(core) });
      });
      cpu.load.forEach((load, i) => {
        set('pulseboard_load_average', 'Run-queue load average', load, { period: ['1m', '5m', '15m'][i] ?? String(i) });
      });
    }
    const memory = latest('memory');
    if (memory) {
      set('pulseboard_memory_total_bytes', 'Physical memory', memory.total);
      set('pulseboard_memory_used_bytes', 'Memory in use (total minus available)', memory.used);
      set('pulseboard_memory_available_bytes', 'Memory available to new work without swapping', memory.available);
      set('pulseboard_memory_cached_bytes', 'Page cache', memory.cached);
      set('pulseboard_memory_buffers_bytes', 'Kernel buffers', memory.buffers);
      set('pulseboard_swap_total_bytes', 'Swap space', memory.swapTotal);
      set('pulseboard_swap_used_bytes', 'Swap in use', memory.swapUsed);
    }
    const network = latest('network');
    if (network) {
      for (const nic of network.interfaces) {
        set('pulseboard_network_receive_bytes_per_second', 'Bytes received per second, by interface', nic.rx, { interface: nic.name });
        set('pulseboard_network_transmit_bytes_per_second', 'Bytes sent per second, by interface', nic.tx, { interface: nic.name });
      }
    }
    const disk = latest('disk');
    if (disk) {
      set('pulseboard_disk_read_bytes_per_second', 'Bytes read from disks per second', disk.read);
      set('pulseboard_disk_written_bytes_per_second', 'Bytes written to disks per second', disk.write);
    }
    for (const mount of latest('filesystem')?.mounts ?? []) {
      const labels = { mountpoint: mount.mount, device: mount.fs, fstype: mount.type };
      set('pulseboard_filesystem_size_bytes', 'Filesystem size', mount.size, labels);
      set('pulseboard_filesystem_used_bytes', 'Filesystem space used', mount.used, labels);
    }
    for (const sensor of latest('temperature')?.sensors ?? []) {
      set('pulseboard_temperature_celsius', 'Sensor temperature', sensor.celsius, { sensor: sensor.name });
    }
    const own = latest('process');
    if (own) {
      set('pulseboard_process_cpu_usage_ratio', "pulseboard's own CPU use, share of one core", ratio(own.cpu));
      set('pulseboard_process_resident_memory_bytes', "pulseboard's resident memory", own.rss);
      set('pulseboard_process_heap_used_bytes', "pulseboard's V8 heap in use", own.heapUsed);
      set('pulseboard_process_heap_total_bytes', "pulseboard's V8 heap reserved", own.heapTotal);
      set('pulseboard_event_loop_lag_seconds', "pulseboard's event-loop delay", own.lagP50 / 1000, { quantile: '0.5' });
      set('pulseboard_event_loop_lag_seconds', "pulseboard's event-loop delay", own.lagP99 / 1000, { quantile: '0.99' });
      if (own.loopBusy !== undefined)
        set('pulseboard_event_loop_utilization_ratio', "Share of the last interval pulseboard's event loop was busy", own.loopBusy / 100);
      set('pulseboard_process_uptime_seconds', "Seconds since pulseboard's process started", own.uptime);
    }
    const processes = latest('processes');
    if (processes) {
      set('pulseboard_processes', 'Processes on the host', processes.count);
      for (const top of processes.top) {
        const labels = { pid: String(top.pid), name: top.name, user: top.user, container: top.container ?? '' };
        set(
          'pulseboard_top_process_cpu_usage_ratio',
          'CPU of the busiest and largest processes, share of one core',
          ratio(top.cpu),
          labels,
        );
        set('pulseboard_top_process_resident_memory_bytes', 'Resident memory of the busiest and largest processes', top.rss, labels);
      }
    }
    const containers = latest('containers');
    if (containers) {
      set('pulseboard_containers', 'Containers (cgroups holding processes) on the host', containers.count);
      for (const c of containers.top) {
        const labels = { id: c.id, name: c.name, kind: c.kind };
        if (c.cpu !== null)
          set('pulseboard_container_cpu_usage_ratio', 'CPU of the busiest and largest containers, share of one core', ratio(c.cpu), labels);
        if (c.memory !== null)
          set(
            'pulseboard_container_memory_bytes',
            'Memory of the busiest and largest containers, less inactive page cache',
            c.memory,
            labels,
          );
        if (c.memoryLimit !== null)
          set('pulseboard_container_memory_limit_bytes', 'Memory limit of the busiest and largest containers', c.memoryLimit, labels);
        if (c.ioRead !== null)
          set('pulseboard_container_io_read_bytes_per_second', 'Block I/O read per second, by container', c.ioRead, labels);
        if (c.ioWrite !== null)
          set('pulseboard_container_io_written_bytes_per_second', 'Block I/O written per second, by container', c.ioWrite, labels);
        if (c.netRx !== null)
          set(
            'pulseboard_container_network_receive_bytes_per_second',
            'Bytes received per second in its own network namespace',
            c.netRx,
            labels,
          );
        if (c.netTx !== null)
          set(
            'pulseboard_container_network_transmit_bytes_per_second',
            'Bytes sent per second in its own network namespace',
            c.netTx,
            labels,
          );
        set('pulseboard_container_tasks', 'Tasks (threads included) in the container', c.pids, labels);
      }
    }
    const requests = latest('requests');
    if (requests) {
      set('pulseboard_requests_per_second', 'Requests completed per second over the last sample', requests.rate, {
        source: requests.source,
      });
    }
  }
}
