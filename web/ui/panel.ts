import type { CollectorHealth, SampleByTopic, Topic } from '../../server/protocol.js';
import { type LineSpec, TimeChart, type TimeChartOptions } from '../charts/time-chart.js';
import type { SeriesStore } from '../store.js';
import { el, setText } from './dom.js';

export interface PanelContext {
  store: SeriesStore;
  windowMs: number;
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
    this.body.append(el('div', { class: 'chart' }, [canvas]));
    const chart = new TimeChart(canvas, this.context.store, lines, options, this.context.windowMs);
    this.charts.push(chart);
    return chart;
  }

  setValue(text: string): void {
    setText(this.value, text);
  }

  setDetail(text: string): void {
    setText(this.detail, text);
  }

  /** A failing collector is said in words, and its numbers are dimmed: old numbers never pass for live. */
  setHealth(health: CollectorHealth | undefined): void {
    const failing = health !== undefined && !health.ok;
    this.root.classList.toggle('failing', failing);
    this.problem.hidden = !failing;
    if (failing) setText(this.problem, `${health.source} collector failing: ${health.error ?? 'unknown error'}`);
  }
}

export interface TopicPanel<T extends Topic = Topic> {
  readonly topic: T;
  readonly panel: Panel;
  /** Shows the newest sample (numbers, bars, tables); the charts read the store. */
  show(sample: SampleByTopic[T]): void;
}
