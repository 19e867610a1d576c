import type { Topic } from '../protocol.js';

export type WatchedListener = (topic: Topic, watched: boolean) => void;

/**
 * How many open streams want each topic, and a call when a topic gains its first one or loses its last:
 * what lets a costly collector slow down while no page shows its panel.
 */
export class TopicWatchers {
  private readonly counts = new Map<Topic, number>();
  private readonly listeners: WatchedListener[] = [];

  onChange(listener: WatchedListener): void {
    this.listeners.push(listener);
  }

  isWatched(topic: Topic): boolean {
    return (this.counts.get(topic) ?? 0) > 0;
  }

  /**
   * A stream that wants `topics` opened; call the returned function once when it closes. Topics without
   * repeats are kept as given, not copied: streams that share one array (StreamService's per selection)
   * then share it here too.
   */
  add(topics: readonly Topic[]): () => void {
    const unique = new Set(topics).size === topics.length ? topics : [...new Set(topics)];
    for (const topic of unique) this.change(topic, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const topic of unique) this.change(topic, -1);
    };
  }

  private change(topic: Topic, delta: 1 | -1): void {
    const before = this.counts.get(topic) ?? 0;
    const after = before + delta;
    this.counts.set(topic, after);
    if ((before === 0) !== (after === 0)) for (const listener of this.listeners) listener(topic, after > 0);
  }
}
