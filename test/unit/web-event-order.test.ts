import { describe, expect, it } from 'vitest';
import { EventOrder } from '../../web/event-order.js';

describe('event order (the page)', () => {
  it('applies events of one boot in order once, and remembers the last id applied', () => {
    const order = new EventOrder();
    expect(order.lastId).toBeNull();
    order.hello({ bootId: 'boot1', mode: 'fresh' });
    expect(order.accept('boot1-1')).toBe(true);
    expect(order.accept('boot1-2')).toBe(true);
    expect(order.accept('boot1-2')).toBe(false);
    expect(order.accept('boot1-1')).toBe(false);
    expect(order.lastId).toBe('boot1-2');
    expect(order.accept('boot1-10')).toBe(true); // numbers, not text: 10 comes after 2
    expect(order.accept('boot1-9')).toBe(false);
    expect(order.lastId).toBe('boot1-10');
  });

  it('passes events without an id, and does not take them as a position', () => {
    const order = new EventOrder();
    order.accept('boot1-5');
    expect(order.accept('')).toBe(true);
    expect(order.lastId).toBe('boot1-5');
  });

  it('keeps counting on a resume hello of the same boot', () => {
    const order = new EventOrder();
    order.hello({ bootId: 'boot1', mode: 'fresh' });
    order.accept('boot1-7');
    order.hello({ bootId: 'boot1', mode: 'resume' });
    expect(order.accept('boot1-7')).toBe(false);
    expect(order.accept('boot1-8')).toBe(true);
  });

  it('starts again on a reset or fresh hello, even of the same boot, and on a new boot', () => {
    for (const mode of ['reset', 'fresh'] as const) {
      const order = new EventOrder();
      order.hello({ bootId: 'boot1', mode: 'fresh' });
      order.accept('boot1-7');
      order.hello({ bootId: 'boot1', mode });
      expect(order.accept('boot1-3')).toBe(true);
    }
    const order = new EventOrder();
    order.hello({ bootId: 'boot1', mode: 'fresh' });
    order.accept('boot1-7');
    order.hello({ bootId: 'boot2', mode: 'resume' });
    expect(order.accept('boot2-1')).toBe(true);
  });

  it('accepts an event of another boot than the last one applied, and follows it from there', () => {
    const order = new EventOrder();
    order.accept('boot1-50');
    expect(order.accept('boot2-3')).toBe(true);
    expect(order.accept('boot2-3')).toBe(false);
    expect(order.lastId).toBe('boot2-3');
  });

  it('splits an id at its last dash: a fleet id holds one, a boot id may too', () => {
    const order = new EventOrder();
    expect(order.accept('1700000000000-5')).toBe(true);
    expect(order.accept('1700000000000-4')).toBe(false);
    expect(order.accept('a-b-5')).toBe(true);
    expect(order.accept('a-b-5')).toBe(false);
    expect(order.accept('a-b-6')).toBe(true);
  });
});
