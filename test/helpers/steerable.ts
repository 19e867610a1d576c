import type { Collector } from '../../server/collect/collector.js';

/** A CPU collector whose value the test sets: the rule engine, the stream and the webhook are the real ones. */
export function steerableCpu(cadenceMs = 100): { collector: Collector<'cpu'>; set(value: number): void } {
  let value = 10;
  return {
    set: (next) => {
      value = next;
    },
    collector: {
      topic: 'cpu',
      source: 'test',
      cadenceMs,
      sample: (t) => ({ t, total: value, user: value, system: 0, iowait: 0, cores: [value], load: [0, 0, 0] }),
    },
  };
}
