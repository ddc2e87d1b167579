/**
 * The recent trend as a small chart without a native renderer: an SVG line (for targets and
 * pages that show images), a Unicode block sparkline (for text-only targets) and min/mean/max.
 */
import type { TrendSummary } from './types';

const BLOCKS = '▁▂▃▄▅▆▇█';

/** Averages `values` into at most `width` buckets (keeps the shape, bounds the size). */
export function downsample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / width));
    let sum = 0;
    for (let j = from; j < to; j++) sum += values[j];
    out.push(sum / (to - from));
  }
  return out;
}

export function trendStats(values: readonly number[]): { n: number; min: number; mean: number; max: number } | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of finite) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { n: finite.length, min, mean: sum / finite.length, max };
}

/** "▁▂▄▇█": one block per (averaged) point, scaled between min and max. */
export function textSparkline(values: readonly number[], width = 24): string {
  const points = downsample(values.filter((v) => Number.isFinite(v)), Math.max(1, width));
  if (points.length === 0) return '';
  const min = Math.min(...points);
  const max = Math.max(...points);
  const span = max - min;
  return points.map((v) => BLOCKS[span > 0 ? Math.min(7, Math.floor(((v - min) / span) * 8)) : 3]).join('');
}

const r1 = (n: number): string => (Math.round(n * 10) / 10).toString();

export interface SvgOptions {
  width?: number;
  height?: number;
  stroke?: string;
  /** Points drawn at most (the rest is averaged). */
  maxPoints?: number;
}

/** A standalone SVG polyline with a dot on the latest value; '' without data. */
export function svgSparkline(values: readonly number[], options: SvgOptions = {}): string {
  const width = options.width ?? 160;
  const height = options.height ?? 32;
  const stroke = /^#[0-9a-fA-F]{3,8}$/.test(options.stroke ?? '') ? options.stroke! : '#c0392b';
  const points = downsample(values.filter((v) => Number.isFinite(v)), options.maxPoints ?? 80);
  if (points.length === 0) return '';
  const pad = 3;
  const min = Math.min(...points);
  const max = Math.max(...points);
  const span = max - min || 1;
  const x = (i: number) => (points.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (points.length - 1));
  const y = (v: number) => (max === min ? height / 2 : height - pad - ((v - min) / span) * (height - 2 * pad));
  const coords = points.map((v, i) => `${r1(x(i))},${r1(y(v))}`).join(' ');
  const last = points.length - 1;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">` +
    `<polyline fill="none" stroke="${stroke}" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round" points="${coords}"/>` +
    `<circle cx="${r1(x(last))}" cy="${r1(y(points[last]))}" r="2.5" fill="${stroke}"/></svg>`
  );
}

export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

/** Rounds for people: 3 significant digits, no exponent for ordinary magnitudes. */
export function figure(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1000 || abs < 0.001) return n.toPrecision(3);
  return String(Number(n.toPrecision(3)));
}

export function summariseTrend(values: readonly number[]): TrendSummary | undefined {
  const stats = trendStats(values);
  if (!stats) return undefined;
  const kept = values.filter((v) => Number.isFinite(v)).slice(-120);
  return { values: kept, ...stats, spark: textSparkline(kept), svg: svgSparkline(kept) };
}
