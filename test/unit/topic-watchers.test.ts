import { describe, expect, it } from 'vitest';
import type { Topic } from '../../server/protocol.js';
import { TopicWatchers } from '../../server/stream/watchers.js';

describe('TopicWatchers', () => {
  it('calls its listeners when a topic gains its first stream and loses its last, not in between', () => {
    const watchers = new TopicWatchers();
    const changes: [Topic, boolean][] = [];
    watchers.onChange((topic, watched) => changes.push([topic, watched]));
    const first = watchers.add(['processes', 'cpu']);
    const second = watchers.add(['processes']);
    expect(changes).toEqual([
      ['processes', true],
      ['cpu', true],
    ]);
    first();
    expect(changes).toHaveLength(3);
    expect(changes[2]).toEqual(['cpu', false]);
    expect(watchers.isWatched('processes')).toBe(true);
    second();
    expect(changes[3]).toEqual(['processes', false]);
    expect(watchers.isWatched('processes')).toBe(false);
  });

  it('counts a stream once however often it is released or names a topic', () => {
    const watchers = new TopicWatchers();
    const release = watchers.add(['processes', 'processes']);
    const other = watchers.add(['processes']);
    release();
    release();
    expect(watchers.isWatched('processes')).toBe(true);
    other();
    expect(watchers.isWatched('processes')).toBe(false);
  });
});
