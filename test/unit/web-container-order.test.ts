import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../server/protocol.js';
import { containerOrder } from '../../web/panels/containers.js';

const container = (name: string, cpu: number | null, memory: number | null): ContainerInfo =>
  ({ id: `/docker/${name}`, name, cpu, memory }) as ContainerInfo;

describe('the containers table order', () => {
  it('sorts by CPU or memory, either way, with no reading last', () => {
    const list = [container('a', 5, 300), container('b', null, 100), container('c', 40, 200)];
    expect([...list].sort(containerOrder('cpu', true)).map((c) => c.name)).toEqual(['c', 'a', 'b']);
    expect([...list].sort(containerOrder('cpu', false)).map((c) => c.name)).toEqual(['b', 'a', 'c']);
    expect([...list].sort(containerOrder('memory', true)).map((c) => c.name)).toEqual(['a', 'c', 'b']);
  });

  it("breaks ties by the names' code units, not the locale's collation (whose first use sets up ICU mid first paint)", () => {
    const idle = [container('web-b', 0, 1), container('Web-a', 0, 1), container('web-a', 0, 1)];
    // localeCompare would put 'web-a' and 'Web-a' together before 'web-b'.
    expect([...idle].sort(containerOrder('cpu', true)).map((c) => c.name)).toEqual(['Web-a', 'web-a', 'web-b']);
  });
});
