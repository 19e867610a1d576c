import { performance } from 'node:perf_hooks';
import type { Collector } from './collector.js';

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
    immediate = setImmediate(() => {
      immediate = undefined;
      readings.push(performance.now() - armedAt);
    });
    immediate.unref();
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

/**
 * This Node process: CPU over the interval, memory, event-loop lag percentiles (reset each sample) and how busy
 * the loop was between samples (Node keeps that count itself: reading it wakes nothing).
 */
export function processCollector(cadenceMs: number): Collector<'process'> {
  const lag = lagReadings();
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
      const memory = process.memoryUsage();
      const loop = performance.eventLoopUtilization();
      const loopBusy = performance.eventLoopUtilization(loop, lastLoop).utilization;
      lastLoop = loop;
      const readings = lag.take();
      const sample = {
        t,
        cpu: elapsedUs > 0 ? round2(Math.max(0, (busyUs * 100) / elapsedUs)) : 0,
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        lagP50: round2(percentileOf(readings, 50)),
        lagP99: round2(percentileOf(readings, 99)),
        loopBusy: round2(loopBusy * 100),
        uptime: Math.round(process.uptime()),
      };
      lag.armAfterSample();
      return sample;
    },
    close: () => lag.stop(),
  };
}
