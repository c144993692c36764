import type { RunRecord } from '../../../storage/contracts/run-store.js';
import { chartFrame, niceTicks, topTick, type ChartBox, type Tick } from './chart.js';
import { byId, el } from './dom.js';
import { formatDuration, formatNumber, formatTime } from './format.js';
import { isFailedStatus } from './vocabulary.js';

/** How long a run took, or null while it has not both started and ended. */
export function durationOf(run: RunRecord): number | null {
  return run.started_at && run.ended_at
    ? Date.parse(run.ended_at) - Date.parse(run.started_at)
    : null;
}

/** Up to five x ticks spread over the runs, the outer ones kept inside the frame. */
function runTicks(runs: readonly RunRecord[], x: (index: number) => number): Tick[] {
  const labelled = Math.min(runs.length, 5);
  const ticks: Tick[] = [];
  for (let step = 0; step < labelled; step += 1) {
    const index =
      labelled === 1 ? runs.length - 1 : Math.round((step * (runs.length - 1)) / (labelled - 1));
    const anchor =
      runs.length > 1 && index === 0
        ? 'start'
        : runs.length > 1 && index === runs.length - 1
          ? 'end'
          : 'middle';
    ticks.push({ at: x(index), label: formatTime(runs[index]?.started_at), anchor });
  }
  return ticks;
}

/** Runs in the chart: the newest that finished (skips excluded). */
const CHART_RUNS = 20;

/**
 * Duration (left axis) and tokens (right axis) of the last finished runs (of runs, newest
 * first), oldest to newest, each axis scaled to round ticks; failed runs are marked in red.
 */
export function renderRunChart(newestFirst: readonly RunRecord[]): void {
  const runs = newestFirst
    .filter((run) => run.ended_at && run.status !== 'skipped')
    .slice(0, CHART_RUNS)
    .reverse();
  const holder = byId('run-chart');
  if (runs.length === 0) {
    holder.replaceChildren(
      el('p', { class: 'muted' }, 'The chart appears after the first finished run.'),
    );
    return;
  }
  const box: ChartBox = { width: 640, height: 230, left: 64, right: 60, top: 12, bottom: 38 };
  const plotWidth = box.width - box.left - box.right;
  const plotHeight = box.height - box.top - box.bottom;
  const durations = runs.map((run) => durationOf(run) ?? 0);
  const tokens = runs.map((run) => run.usage.total_tokens);
  // Whole milliseconds: finer ticks would print the same rounded label twice.
  const durationTicks = niceTicks(Math.max(...durations), 4, true);
  const tokenTicks = niceTicks(Math.max(...tokens), 4, true);
  const durationTop = topTick(durationTicks);
  const tokenTop = topTick(tokenTicks);
  const x = (index: number) =>
    box.left + (runs.length === 1 ? plotWidth / 2 : (index * plotWidth) / (runs.length - 1));
  const y = (value: number, top: number) => box.top + plotHeight * (1 - value / top);
  const points = (values: number[], top: number) =>
    values.map((value, index) => x(index).toFixed(1) + ',' + y(value, top).toFixed(1)).join(' ');
  const failed = runs
    .map((run, index) => ({ run, index }))
    .filter(({ run }) => isFailedStatus(run.status));
  const svg = el(
    'svg:svg',
    {
      viewBox: '0 0 ' + box.width + ' ' + box.height,
      role: 'img',
      'aria-label': 'Duration and tokens of the last ' + runs.length + ' runs',
    },
    chartFrame(box, {
      y: durationTicks.map((value) => ({
        at: y(value, durationTop),
        label: formatDuration(value),
      })),
      yRight: tokenTicks.map((value) => ({ at: y(value, tokenTop), label: formatNumber(value) })),
      x: runTicks(runs, x),
      xTitle: 'last ' + runs.length + ' finished runs, oldest → newest (start time)',
      yTitle: 'duration',
      yRightTitle: 'tokens',
    }),
    failed.map(({ index }) =>
      el('svg:line', {
        class: 'failed-mark',
        x1: x(index),
        x2: x(index),
        y1: box.top,
        y2: box.height - box.bottom,
      }),
    ),
    el('svg:polyline', { class: 'duration', points: points(durations, durationTop) }),
    el('svg:polyline', { class: 'tokens', points: points(tokens, tokenTop) }),
    runs.map((run, index) =>
      el(
        'svg:circle',
        { class: 'dot-tokens', cx: x(index), cy: y(run.usage.total_tokens, tokenTop), r: 3 },
        el('svg:title', {}, run.run_id + ': ' + formatNumber(run.usage.total_tokens) + ' tokens'),
      ),
    ),
    runs.map((run, index) => {
      const value = durations[index] ?? 0;
      const bad = isFailedStatus(run.status);
      const text =
        run.run_id +
        ': ' +
        run.status +
        ' in ' +
        formatDuration(value) +
        (run.error ? ' (' + run.error.code + ': ' + run.error.message + ')' : '');
      return el(
        'svg:circle',
        {
          class: bad ? 'dot-failed' : 'dot-duration',
          cx: x(index),
          cy: y(value, durationTop),
          r: bad ? 5 : 3,
          'data-run-id': run.run_id,
        },
        el('svg:title', {}, text),
      );
    }),
  );
  const swatch = (kind: string, label: string) =>
    el('span', {}, el('span', { class: 'swatch ' + kind }), label);
  holder.replaceChildren(
    el(
      'div',
      { class: 'legend' },
      swatch('duration', 'duration'),
      swatch('tokens', 'tokens'),
      swatch('failed', failed.length + ' failed'),
    ),
    svg,
  );
}
