import { el } from './dom.js';

/** Round ticks from 0 to at least max: steps of 1, 2 or 5 × 10^n, about count of them (whole numbers if integer). */
export function niceTicks(max: number, count: number, integer: boolean): number[] {
  const top = max > 0 ? max : 1;
  const rough = top / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  let step =
    [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? rough;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let index = 0; index <= Math.ceil(top / step - 1e-9); index += 1) {
    ticks.push(Number((index * step).toPrecision(12)));
  }
  return ticks;
}

/** The last of a list of ticks: the top of the axis. */
export function topTick(ticks: readonly number[]): number {
  return ticks[ticks.length - 1] ?? 1;
}

const TIME_STEPS_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/** Instants (ms) on round local times between start and end, at most about count of them. */
export function timeTicks(start: number, end: number, count: number): number[] {
  const span = Math.max(1, end - start);
  const minutes =
    TIME_STEPS_MINUTES.find((candidate) => span / (candidate * 60000) <= count) ?? 1440;
  const step = minutes * 60000;
  const offset = -new Date(start).getTimezoneOffset() * 60000;
  const ticks: number[] = [];
  for (let at = Math.ceil((start + offset) / step) * step - offset; at <= end; at += step)
    ticks.push(at);
  return ticks;
}

/** The outer size of a chart and the margins around its plot, in SVG units. */
export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A tick at a pixel position; x ticks may say anchor `start` or `end` to stay inside the frame. */
export interface Tick {
  at: number;
  label: string;
  anchor?: 'start' | 'middle' | 'end';
}

/** The ticks and titles of a chart's axes. */
export interface ChartAxes {
  y?: Tick[];
  yRight?: Tick[];
  x?: Tick[];
  xTitle?: string;
  yTitle?: string;
  yRightTitle?: string;
}

/**
 * The frame of a chart inside box: horizontal grid lines at the y ticks, the axes, tick labels
 * on both sides and below, and axis titles.
 */
export function chartFrame(box: ChartBox, axes: ChartAxes): SVGElement[] {
  const bottom = box.height - box.bottom;
  const right = box.width - box.right;
  const middle = (box.top + bottom) / 2;
  const parts: SVGElement[] = [];
  for (const tick of axes.y ?? []) {
    parts.push(
      el('svg:line', { class: 'grid', x1: box.left, x2: right, y1: tick.at, y2: tick.at }),
    );
    parts.push(
      el(
        'svg:text',
        { class: 'tick tick-y', x: box.left - 6, y: tick.at + 4, 'text-anchor': 'end' },
        tick.label,
      ),
    );
  }
  for (const tick of axes.yRight ?? []) {
    parts.push(
      el('svg:text', { class: 'tick tick-y-right', x: right + 6, y: tick.at + 4 }, tick.label),
    );
  }
  for (const tick of axes.x ?? []) {
    parts.push(
      el('svg:line', { class: 'axis', x1: tick.at, x2: tick.at, y1: bottom, y2: bottom + 4 }),
    );
    parts.push(
      el(
        'svg:text',
        {
          class: 'tick tick-x',
          x: tick.at,
          y: bottom + 16,
          'text-anchor': tick.anchor ?? 'middle',
        },
        tick.label,
      ),
    );
  }
  parts.push(
    el('svg:line', { class: 'axis axis-x', x1: box.left, x2: right, y1: bottom, y2: bottom }),
  );
  parts.push(
    el('svg:line', { class: 'axis axis-y', x1: box.left, x2: box.left, y1: box.top, y2: bottom }),
  );
  if (axes.yRight) {
    parts.push(
      el('svg:line', { class: 'axis axis-y-right', x1: right, x2: right, y1: box.top, y2: bottom }),
    );
  }
  const title = (text: string, x: number, y: number, transform?: string) =>
    el('svg:text', { class: 'axis-title', x, y, 'text-anchor': 'middle', transform }, text);
  if (axes.xTitle) parts.push(title(axes.xTitle, (box.left + right) / 2, box.height - 2));
  if (axes.yTitle) parts.push(title(axes.yTitle, 12, middle, 'rotate(-90 12 ' + middle + ')'));
  if (axes.yRightTitle) {
    const x = box.width - 10;
    parts.push(title(axes.yRightTitle, x, middle, 'rotate(90 ' + x + ' ' + middle + ')'));
  }
  return parts;
}
