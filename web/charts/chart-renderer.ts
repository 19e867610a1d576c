import {
  Chart,
  type ChartData,
  type ChartEvent,
  type ChartOptions,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { type BandOptions, chartConfig, type FiringOptions } from './chart-config.js';
import {
  type ChartColors,
  type ChartFrame,
  type ChartLayout,
  type ChartSize,
  type ChartSnapshot,
  type ChartSpec,
  EMPTY_SNAPSHOT,
  type PointerKind,
  unpack,
} from './chart-frame.js';
import type { Point } from './decimate.js';
import { type MinMaxBandOptions, minMaxBandsOf } from './minmax-bands.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip, Legend);

/** What frames and colours are put into: a chart's, or the configuration's of one about to be made. */
type ChartParts = { data: ChartData<'line', Point[]>; options: ChartOptions<'line'> };

/** A pointer position as Chart.js takes it when there is no DOM event behind it (`native: null`). */
const chartEvent = (type: ChartEvent['type'], x: number, y: number): ChartEvent => ({ type, x, y, native: null });

/**
 * One Chart.js chart and the frames drawn into it. The same code runs in the chart worker (on an
 * OffscreenCanvas) and on the main thread where there is no OffscreenCanvas (on the canvas element).
 */
export class ChartRenderer {
  /** Made at the first frame, with its data, colours and size in it: one render instead of three. */
  private chart: Chart<'line', Point[]> | null = null;
  private colors: ChartColors | null = null;
  private bandColors = { warning: '#b45309', critical: '#b91c1c' };
  /** Where the pointer hovers, to show the tooltip again after the next frame. */
  private hover: { x: number; y: number } | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement | OffscreenCanvas,
    private readonly spec: ChartSpec,
    private size: ChartSize,
  ) {
    if (spec.fontSize !== undefined) Chart.defaults.font.size = spec.fontSize;
  }

  resize(size: ChartSize): void {
    this.size = size;
    if (!this.chart) return;
    this.chart.options.devicePixelRatio = size.devicePixelRatio;
    this.chart.resize(size.width, size.height);
  }

  draw(frame: ChartFrame): ChartLayout {
    if (!this.chart) {
      const config = chartConfig(this.spec, this.size);
      const target = { data: config.data, options: config.options as ChartOptions<'line'> };
      if (this.colors) this.colorIn(target, this.colors);
      this.frameIn(target, frame);
      this.canvas.width = this.size.width;
      this.canvas.height = this.size.height;
      // Chart.js draws on an OffscreenCanvas (BasicPlatform); its types only name the DOM's canvas.
      this.chart = new Chart<'line', Point[]>(this.canvas as HTMLCanvasElement, config);
    } else {
      this.frameIn(this.chart, frame);
      this.chart.update('none');
    }
    if (this.hover) this.showTooltipAt(this.hover.x, this.hover.y);
    return this.layout();
  }

  /** Puts a frame into a chart, or into the configuration of one about to be made. */
  private frameIn(chart: ChartParts, frame: ChartFrame): void {
    const plugins = chart.options.plugins as {
      pulseboardBands?: BandOptions;
      pulseboardFiring?: FiringOptions;
      pulseboardMinMax?: MinMaxBandOptions;
    };
    plugins.pulseboardBands = { level: frame.level, colors: this.bandColors };
    plugins.pulseboardFiring = { spans: frame.firing, colors: this.bandColors };
    plugins.pulseboardMinMax = { bands: frame.lines.map((line) => line.band) };
    const x = chart.options.scales?.x;
    if (x) {
      x.min = frame.min;
      x.max = frame.max;
    }
    frame.lines.forEach((line, i) => {
      const dataset = chart.data.datasets[i];
      if (dataset) dataset.data = unpack(line.points);
    });
  }

  /** The pointer over the canvas (CSS px from its top left): the tooltip's text, or null when none shows. */
  pointer(kind: PointerKind, x: number, y: number): string[] | null {
    if (!this.chart) return null;
    if (kind === 'click') {
      (this.chart as unknown as { legend?: { handleEvent(event: ChartEvent): void } }).legend?.handleEvent(chartEvent('click', x, y));
      return this.hover ? this.showTooltipAt(this.hover.x, this.hover.y) : null;
    }
    if (kind === 'leave') {
      this.hover = null;
      this.chart.setActiveElements([]);
      this.chart.tooltip?.setActiveElements([], { x, y });
      this.chart.render();
      return null;
    }
    this.hover = { x, y };
    return this.showTooltipAt(x, y);
  }

  private showTooltipAt(x: number, y: number): string[] | null {
    const { chart } = this;
    if (!chart) return null;
    const area = chart.chartArea;
    const inside = area && x >= area.left && x <= area.right && y >= area.top && y <= area.bottom;
    const elements = inside
      ? chart
          .getElementsAtEventForMode(chartEvent('mousemove', x, y) as unknown as Event, 'nearest', { axis: 'x', intersect: false }, false)
          .filter((element) => chart.isDatasetVisible(element.datasetIndex))
          .map(({ datasetIndex, index }) => ({ datasetIndex, index }))
      : [];
    chart.setActiveElements(elements);
    chart.tooltip?.setActiveElements(elements, { x, y });
    chart.render();
    const tooltip = chart.tooltip;
    if (!tooltip || elements.length === 0) return null;
    return [...tooltip.title, ...tooltip.body.flatMap((item) => item.lines)];
  }

  snapshot(): ChartSnapshot {
    if (!this.chart) return EMPTY_SNAPSHOT;
    const chart = this.chart;
    const datasets = chart.data.datasets.map((dataset, index) => ({
      label: String(dataset.label),
      points: dataset.data.map((point) => [point.x, point.y ?? null] as [number, number | null]),
      hidden: !chart.isDatasetVisible(index),
    }));
    const nullable = (value: number) => (Number.isNaN(value) ? null : value);
    const bands = minMaxBandsOf(chart).map((band, i) => ({
      label: String(chart.data.datasets[i]?.label),
      rows: band
        ? Array.from(
            band.x,
            (x, row) =>
              [x, nullable(band.low[row] as number), nullable(band.high[row] as number)] as [number, number | null, number | null],
          )
        : [],
    }));
    const plot = { ...this.layout(), yMin: chart.scales.y?.min ?? 0, yMax: chart.scales.y?.max ?? 0 };
    const hitBoxes = (
      chart.legend as unknown as { legendHitBoxes?: { left: number; top: number; width: number; height: number }[] } | undefined
    )?.legendHitBoxes;
    const legend = (hitBoxes ?? []).map((box) => [box.left, box.top, box.width, box.height] as [number, number, number, number]);
    const { ctx, canvas } = this.chart;
    let paintedPixels = 0;
    if (canvas.width > 0 && canvas.height > 0) {
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) paintedPixels++;
    }
    return { datasets, bands, plot, legend, backing: [canvas.width, canvas.height], paintedPixels };
  }

  destroy(): void {
    this.chart?.destroy();
  }

  private layout(): ChartLayout {
    const area = this.chart?.chartArea;
    const x = this.chart?.scales.x;
    return {
      left: area?.left ?? 0,
      right: area?.right ?? 0,
      top: area?.top ?? 0,
      bottom: area?.bottom ?? 0,
      min: x?.min ?? 0,
      max: x?.max ?? 0,
    };
  }

  /** The theme's colours, drawn from the next frame on. */
  setColors(colors: ChartColors): void {
    this.colors = colors;
    if (this.chart) this.colorIn(this.chart, colors);
  }

  private colorIn(chart: ChartParts, colors: ChartColors): void {
    this.bandColors = { warning: colors.warning, critical: colors.critical };
    colors.lines.forEach((color, i) => {
      const dataset = chart.data.datasets[i];
      if (!dataset) return;
      dataset.borderColor = color;
      dataset.backgroundColor = `${color}55`;
    });
    const { options } = chart;
    if (options.plugins?.legend?.labels) options.plugins.legend.labels.color = colors.text;
    for (const scale of [options.scales?.x, options.scales?.y]) {
      if (!scale) continue;
      if (scale.ticks) scale.ticks.color = colors.text;
      if (scale.grid) scale.grid.color = colors.grid;
    }
  }
}
