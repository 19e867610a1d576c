import { describe, expect, it } from 'vitest';
import { CounterRates, counterDelta, perSecond } from '../../server/collect/rate.js';

describe('counter rates', () => {
  it('give 0 for a counter that did not move, not the whole counter', () => {
    expect(counterDelta(123_456, 123_456)).toBe(0);
    expect(perSecond(123_456, 123_456, 1000)).toBe(0);
    const rates = new CounterRates<'rx' | 'tx'>();
    rates.update(0, new Map([['eth0', { rx: 5000, tx: 7000 }]]));
    expect(rates.update(1000, new Map([['eth0', { rx: 5000, tx: 7500 }]]))?.get('eth0')).toEqual({ rx: 0, tx: 500 });
  });

  it('count the delta of a counter that grew, per second of the time between the readings', () => {
    expect(counterDelta(100, 101)).toBe(1);
    expect(perSecond(0, 300, 1500)).toBe(200);
    expect(perSecond(0, 300, -5)).toBe(0);
  });

  it('rate each reading against the one just before it, not the first', () => {
    const rates = new CounterRates<'rx'>();
    rates.update(0, new Map([['eth0', { rx: 0 }]]));
    rates.update(1000, new Map([['eth0', { rx: 1000 }]]));
    expect(rates.update(3000, new Map([['eth0', { rx: 5000 }]]))?.get('eth0')).toEqual({ rx: 2000 });
  });
});
