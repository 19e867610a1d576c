import type { CollectorHealth, Gauge, Level, SampleByTopic, Thresholds, Topic } from '../../server/protocol.js';
import { attachDragZoom } from '../charts/drag-zoom.js';
import { type LineSpec, TimeChart, type TimeChartOptions, type ZoomHandler } from '../charts/time-chart.js';
import type { SeriesStore } from '../store.js';
import { el, setText } from './dom.js';

export interface PanelContext {
  store: SeriesStore;
  windowMs: number;
  /** The server's levels from `hello`; read on every sample, so new levels apply at once. */
  thresholds: () => Thresholds;
  /** A range dragged out on any chart. */
  onZoom: ZoomHandler;
}

export type LevelName = 'ok' | 'warning' | 'critical';

export function levelOf(value: number, level: Level | undefined): LevelName {
  if (!level) return 'ok';
  if (value >= level.critical) return 'critical';
  if (value >= level.warning) return 'warning';
  return 'ok';
}

/** A topic's card: title, the current value in large type, a detail line, charts, and a failure note. */
export class Panel {
  readonly root: HTMLElement;
  readonly body: HTMLElement;
  readonly charts: TimeChart[] = [];
  private readonly value: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly problem: HTMLElement;

  constructor(
    readonly topic: Topic,
    title: string,
    private readonly context: PanelContext,
  ) {
    this.value = el('div', { class: 'value', 'data-role': 'value' }, ['—']);
    this.detail = el('div', { class: 'detail', 'data-role': 'detail' });
    this.problem = el('div', { class: 'problem', role: 'status', hidden: '' });
    this.body = el('div', { class: 'body' });
    this.root = el('section', { class: 'panel', 'data-topic': topic, 'aria-label': title }, [
      el('h2', {}, [title]),
      this.value,
      this.detail,
      this.problem,
      this.body,
    ]);
  }

  addChart(lines: LineSpec[], options: TimeChartOptions, label: string): TimeChart {
    const canvas = el('canvas', { role: 'img', 'aria-label': label });
    const frame = el('div', { class: 'chart' }, [canvas]);
    this.body.append(frame);
    const chart = new TimeChart(canvas, frame, this.context.store, lines, options, this.context.windowMs);
    attachDragZoom(frame, canvas, chart, this.context.onZoom);
    this.charts.push(chart);
    return chart;
  }

  setValue(text: string): void {
    setText(this.value, text);
  }

  /** Colours the big number by the gauge's warning / critical levels. */
  setLevel(gauge: Gauge, value: number): void {
    const level = levelOf(value, this.context.thresholds()[gauge]);
    if (this.value.dataset.level !== level) this.value.dataset.level = level;
  }

  /** Bands for a chart of this gauge, in the chart's unit (`scale` converts from the gauge's). */
  bandsOf(gauge: Gauge, scale: () => number = () => 1): () => Level | undefined {
    return () => {
      const level = this.context.thresholds()[gauge];
      return level && { warning: level.warning * scale(), critical: level.critical * scale() };
    };
  }

  setDetail(text: string): void {
    setText(this.detail, text);
  }

  /** A failing collector is said in words, and its numbers are dimmed: old numbers never pass for live. A warning is said too, numbers kept. */
  setHealth(health: CollectorHealth | undefined): void {
    const failing = health !== undefined && !health.ok;
    this.root.classList.toggle('failing', failing);
    const warning = health?.warning;
    this.problem.hidden = !failing && warning === undefined;
    if (failing) setText(this.problem, `${health.source} collector failing: ${health.error ?? 'unknown error'}`);
    else if (warning !== undefined) setText(this.problem, warning);
  }
}

export interface TopicPanel<T extends Topic = Topic> {
  readonly topic: T;
  readonly panel: Panel;
  /** Shows the newest sample (numbers, bars, tables); the charts read the store. */
  show(sample: SampleByTopic[T]): void;
}
