import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Collector } from './collector.js';
import { pageSizeFromStatm } from './processes.js';
import { KeptOpenFile } from './procfs.js';

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Nearest-rank percentile of a few readings (two per sample): no histogram needed for so few. */
export function percentileOf(readings: readonly number[], percent: number): number {
  if (readings.length === 0) return 0;
  const sorted = [...readings].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)] as number;
}

/**
 * Event-loop lag without a probe timer: two lag readings per sample, no wake-up of its own.
 * - The sampler's tick lateness: how late the timer that started this sample fired (a stall across a tick).
 * - An immediate armed by each sample: how long after the sample it runs (a stall right after a sample, our
 *   own fan-out of that sample, say, which is an immediate queued before it), recorded for the next sample.
 *   It runs in the same turn of the loop as the sample: a 1 ms timer here woke the process a second time
 *   every second (measured with strace).
 * Not Node's monitorEventLoopDelay: its reset() forgets the interval in progress, so a stall that began right
 * after a sample was never seen (measured: a 400 ms stall read as 0.2 ms); and not a 50 ms probe timer, which
 * cost 0.5 % of a core by itself (measured), five times the whole idle budget.
 */
function lagReadings() {
  let readings: number[] = [];
  let immediate: NodeJS.Immediate | undefined;
  const armAfterSample = () => {
    if (immediate !== undefined) return; // the previous one has not run yet: it will record the longer lag
    const armedAt = performance.now();
    // Referenced, not unref()'d: an unreferenced immediate does not stop the loop from blocking in its poll, so
    // with nothing else queued (no stream open: the hub queues no fan-out) it ran at the next tick and read a
    // whole interval of lag (measured: p99 0.6 s and `event-loop-lag` firing on an idle server). It holds the
    // process for this turn only.
    immediate = setImmediate(() => {
      immediate = undefined;
      readings.push(performance.now() - armedAt);
    });
  };
  return {
    recordTickLateness: (ms: number) => readings.push(Math.max(0, ms)),
    /** The readings since the last take, and a fresh window. */
    take: (): number[] => {
      const taken = readings;
      readings = [];
      return taken;
    },
    armAfterSample,
    stop: () => clearImmediate(immediate),
  };
}

/** The second field of `/proc/self/statm`: resident pages. */
export function residentPages(statm: string): number {
  const start = statm.indexOf(' ') + 1;
  let pages = 0;
  for (let i = start; i < statm.length; i++) {
    const code = statm.charCodeAt(i);
    if (code < 48 || code > 57) break;
    pages = pages * 10 + code - 48;
  }
  return pages;
}

/**
 * This process's resident memory, read from `/proc/self/statm` kept open: Node's `process.memoryUsage()`
 * opens, reads and closes `/proc/self/stat` on every call (libuv), three syscalls a sample where one will
 * do. Without /proc (another OS), Node's.
 */
function residentMemory(): { bytes: () => number; close: () => void } {
  let statm: KeptOpenFile;
  let pageSize: number;
  try {
    statm = new KeptOpenFile('/proc/self/statm');
    pageSize = pageSizeFromStatm();
  } catch {
    return { bytes: () => process.memoryUsage.rss(), close: () => {} };
  }
  return { bytes: () => residentPages(statm.read()) * pageSize, close: () => statm.close() };
}

/**
 * This Node process: CPU over the interval, memory, event-loop lag percentiles (reset each sample) and how busy
 * the loop was between samples (Node keeps that count itself: reading it wakes nothing).
 */
export function processCollector(cadenceMs: number): Collector<'process'> {
  const lag = lagReadings();
  const resident = residentMemory();
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  let lastLoop = performance.eventLoopUtilization();
  return {
    topic: 'process',
    source: 'node',
    cadenceMs,
    sample(t, lateMs) {
      if (lateMs !== undefined) lag.recordTickLateness(lateMs);
      const cpu = process.cpuUsage();
      const now = performance.now();
      const busyUs = cpu.user - lastCpu.user + (cpu.system - lastCpu.system);
      const elapsedUs = (now - lastAt) * 1000;
      lastCpu = cpu;
      lastAt = now;
      // Node's heap figures (what process.memoryUsage() reports as heapUsed and heapTotal) without its /proc/self/stat read.
      const heap = getHeapStatistics();
      const loop = performance.eventLoopUtilization();
      const loopBusy = performance.eventLoopUtilization(loop, lastLoop).utilization;
      lastLoop = loop;
      const readings = lag.take();
      const sample = {
        t,
        cpu: elapsedUs > 0 ? round2(Math.max(0, (busyUs * 100) / elapsedUs)) : 0,
        rss: resident.bytes(),
        heapUsed: heap.used_heap_size,
        heapTotal: heap.total_heap_size,
        lagP50: round2(percentileOf(readings, 50)),
        lagP99: round2(percentileOf(readings, 99)),
        loopBusy: round2(loopBusy * 100),
        uptime: Math.round(process.uptime()),
      };
      lag.armAfterSample();
      return sample;
    },
    close: () => {
      lag.stop();
      resident.close();
    },
  };
}
