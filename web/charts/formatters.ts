import { formatBytes, formatCount, formatMs, formatPercent, formatRate } from '../format.js';

export const celsius = (value: number) => `${value.toFixed(1)} °C`;
export const perSecond = (value: number) => `${formatCount(value)}/s`;

/**
 * The y-axis and tooltip formatters a chart may use, by name: a chart drawn in a worker gets its options
 * by message, and a function cannot be posted, so each panel names one of these.
 */
export const FORMATTERS = {
  percent: formatPercent,
  bytes: formatBytes,
  rate: formatRate,
  ms: formatMs,
  celsius,
  perSecond,
} satisfies Record<string, (value: number) => string>;

export type FormatterName = keyof typeof FORMATTERS;
