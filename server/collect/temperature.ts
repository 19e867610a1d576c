import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import si from 'systeminformation';
import type { TemperatureSample } from '../protocol.js';
import type { Collector } from './collector.js';
import { KeptOpenFile } from './procfs.js';

interface Sensor {
  name: string;
  file: KeptOpenFile;
}

const readText = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
};

/** Every readable temperature input under /sys/class/hwmon, then /sys/class/thermal if hwmon has none. */
export function discoverSensors(sysClass = '/sys/class'): { name: string; path: string }[] {
  const found: { name: string; path: string }[] = [];
  const hwmon = join(sysClass, 'hwmon');
  for (const device of safeList(hwmon)) {
    const dir = join(hwmon, device);
    const chip = readText(join(dir, 'name')) || device;
    for (const file of safeList(dir)
      .filter((f) => /^temp\d+_input$/.test(f))
      .sort()) {
      const label = readText(join(dir, file.replace('_input', '_label')));
      found.push({ name: label ? `${chip} ${label}` : `${chip} ${file.replace('_input', '')}`, path: join(dir, file) });
    }
  }
  if (found.length > 0) return found.filter((sensor) => readable(sensor.path));
  const thermal = join(sysClass, 'thermal');
  for (const zone of safeList(thermal)
    .filter((z) => z.startsWith('thermal_zone'))
    .sort()) {
    const path = join(thermal, zone, 'temp');
    if (existsSync(path)) found.push({ name: readText(join(thermal, zone, 'type')) || zone, path });
  }
  return found.filter((sensor) => readable(sensor.path));
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readable(path: string): boolean {
  return /^-?\d+$/.test(readText(path));
}

/** Millidegrees in sysfs to a sample; `main` is the first sensor (the CPU package on most boards). */
export function temperatureSample(t: number, readings: { name: string; millidegrees: number }[]): TemperatureSample {
  const sensors = readings.map((r) => ({ name: r.name, celsius: Math.round(r.millidegrees / 100) / 10 }));
  return { t, main: sensors[0]?.celsius ?? 0, max: Math.max(...sensors.map((s) => s.celsius)), sensors };
}

/** Null when the host has no sensor: the topic is then absent, never faked. */
export function sysfsTemperatureCollector(cadenceMs: number, sysClass = '/sys/class', maxItems = 16): Collector<'temperature'> | null {
  const sensors: Sensor[] = discoverSensors(sysClass)
    .slice(0, maxItems)
    .map((sensor) => ({ name: sensor.name, file: new KeptOpenFile(sensor.path) }));
  if (sensors.length === 0) return null;
  return {
    topic: 'temperature',
    source: 'sysfs',
    cadenceMs,
    sample: (t) =>
      temperatureSample(
        t,
        sensors.map((s) => ({ name: s.name, millidegrees: Number(s.file.read().trim()) })),
      ),
    close: () => {
      for (const sensor of sensors) sensor.file.close();
    },
  };
}

export async function portableTemperatureCollector(cadenceMs: number): Promise<Collector<'temperature'> | null> {
  const probe = await si.cpuTemperature().catch(() => null);
  if (!probe || typeof probe.main !== 'number' || probe.main <= 0) return null;
  return {
    topic: 'temperature',
    source: 'systeminformation',
    cadenceMs,
    async sample(t) {
      const reading = await si.cpuTemperature();
      if (typeof reading.main !== 'number' || reading.main <= 0) throw new Error('the sensor stopped reporting');
      const cores = (reading.cores ?? []).filter((c) => c > 0).map((celsius, i) => ({ name: `core ${i}`, celsius }));
      return { t, main: reading.main, max: reading.max ?? reading.main, sensors: [{ name: 'cpu', celsius: reading.main }, ...cores] };
    },
  };
}
