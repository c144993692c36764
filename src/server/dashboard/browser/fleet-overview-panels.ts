import type { RunStatus } from '../../../storage/contracts/run-store.js';
import type { FleetOverview, RunBucket } from '../fleet-overview-types.js';
import type { WorkerView } from './api-types.js';
import { chartFrame, niceTicks, timeTicks, topTick, type ChartBox } from './chart.js';
import { byId, el } from './dom.js';
import { formatClock, formatNumber, formatTime, formatUsd, formatWhen } from './format.js';
import { AGENT_STATES, statusLabel } from './vocabulary.js';
import { agentLink, badge, card, runLink } from './widgets.js';

/** Bottom to top: failures first, so they stand on the axis where they are easiest to compare. */
const STACK: readonly RunStatus[] = [
  'failed',
  'timed_out',
  'budget_exceeded',
  'interrupted',
  'cancelled',
  'skipped',
  'completed',
];
const RECENT_FAILURES = 5;

const sum = (counts: RunBucket['counts']) =>
  Object.values(counts).reduce((total, count) => total + count, 0);

/** The cards above the charts, and the notice naming agents that cannot run. */
export function renderCards(overview: FleetOverview): void {
  const { agents, in_flight: inFlight, runs, usage_today: usage, window: span } = overview;
  const chips = AGENT_STATES.filter((state) => agents.by_state[state] > 0).map((state) =>
    el('span', { 'data-state': state }, badge('state', state), ' ' + agents.by_state[state]),
  );
  byId('overview-cards').replaceChildren(
    card('Agents', formatNumber(agents.total), {
      role: 'agents',
      extra: el('div', { class: 'chips' }, chips),
    }),
    card('Runs in flight', formatNumber(inFlight.runs), {
      role: 'in-flight',
      note:
        inFlight.agents.length > 0
          ? inFlight.agents.map((agent) => agent.agent_id).join(', ')
          : 'none',
    }),
    card('Runs, last ' + span.hours + ' h', formatNumber(sum(runs.totals)), { role: 'runs-total' }),
    card('Failures, last ' + span.hours + ' h', formatNumber(runs.failures), {
      role: 'failures',
      bad: runs.failures > 0,
    }),
    card('Tokens today', (usage.complete ? '' : '≥ ') + formatNumber(usage.total_tokens), {
      role: 'tokens-today',
      note: formatNumber(usage.requests) + ' requests in ' + formatNumber(usage.runs) + ' runs',
    }),
    card('Spend today', (usage.complete ? '' : '≥ ') + formatUsd(usage.cost_usd), {
      role: 'spend-today',
      note: 'runs of free or unpriced models count $0',
    }),
  );
  const invalid = byId('invalid-agents');
  invalid.hidden = agents.invalid.length === 0;
  invalid.replaceChildren(
    el(
      'strong',
      {},
      agents.invalid.length === 1
        ? '1 agent cannot run: '
        : agents.by_state.invalid + ' agents cannot run: ',
    ),
    ...agents.invalid.map((agent, index) =>
      el(
        'span',
        { 'data-agent-id': agent.agent_id },
        index > 0 ? '; ' : '',
        agentLink(agent.agent_id),
        ' (' + agent.invalid_reason + ')',
      ),
    ),
  );
}

/** Runs per bucket, stacked by status, on a time axis; a shaded band where the bounded read did not reach. */
export function renderRunsChart(overview: FleetOverview): void {
  const { runs, window: span, coverage } = overview;
  const box: ChartBox = { width: 720, height: 240, left: 52, right: 14, top: 12, bottom: 40 };
  const plotWidth = box.width - box.left - box.right;
  const plotHeight = box.height - box.top - box.bottom;
  const start = Date.parse(span.start);
  const bucketMs = span.bucket_minutes * 60000;
  const end = start + runs.buckets.length * bucketMs;
  const x = (at: number) => box.left + ((at - start) / (end - start)) * plotWidth;
  const totals = runs.buckets.map((bucket) => sum(bucket.counts));
  const ticks = niceTicks(Math.max(...totals, 0), 4, true);
  const top = topTick(ticks);
  const y = (value: number) => box.top + plotHeight * (1 - value / top);
  const barWidth = Math.max(
    1,
    plotWidth / runs.buckets.length - (runs.buckets.length > 90 ? 0.5 : 1),
  );
  const bars: SVGElement[] = [];
  runs.buckets.forEach((bucket, index) => {
    let base = 0;
    const at = Date.parse(bucket.start);
    const present = STACK.filter((status) => bucket.counts[status]);
    const text =
      formatTime(bucket.start) +
      ': ' +
      present.map((status) => status + ' ' + bucket.counts[status]).join(', ');
    for (const status of present) {
      const count = bucket.counts[status] ?? 0;
      bars.push(
        el(
          'svg:rect',
          {
            class: 'bar bar-' + status,
            'data-status': status,
            'data-bucket': index,
            x: x(at).toFixed(2),
            width: barWidth.toFixed(2),
            y: y(base + count).toFixed(2),
            height: (y(base) - y(base + count)).toFixed(2),
          },
          el('svg:title', {}, text),
        ),
      );
      base += count;
    }
  });
  const partial: SVGElement[] = [];
  if (coverage.complete_since && Date.parse(coverage.complete_since) > start) {
    const until = Math.min(end, Date.parse(coverage.complete_since));
    partial.push(
      el(
        'svg:rect',
        {
          class: 'partial',
          x: box.left,
          y: box.top,
          width: x(until) - box.left,
          height: plotHeight,
        },
        el(
          'svg:title',
          {},
          'Before ' +
            formatTime(coverage.complete_since) +
            ' some agents had more runs than the overview reads: counts there are incomplete.',
        ),
      ),
      el(
        'svg:text',
        { class: 'partial-label', x: box.left + 6, y: box.top + 14 },
        'partial before ' + formatClock(until),
      ),
    );
  }
  const empty = totals.every((total) => total === 0)
    ? el(
        'svg:text',
        {
          class: 'empty-label',
          x: box.left + plotWidth / 2,
          y: box.top + plotHeight / 2,
          'text-anchor': 'middle',
        },
        'No run ended in the last ' + span.hours + ' h',
      )
    : null;
  const per = span.bucket_minutes === 1 ? 'minute' : span.bucket_minutes + ' min';
  byId('runs-chart').replaceChildren(
    el(
      'div',
      { class: 'legend' },
      STACK.slice()
        .reverse()
        .map((status) =>
          el('span', {}, el('span', { class: 'swatch block bar-' + status }), statusLabel(status)),
        ),
    ),
    el(
      'svg:svg',
      {
        viewBox: '0 0 ' + box.width + ' ' + box.height,
        role: 'img',
        'aria-label': 'Runs per ' + per + ' by status, last ' + span.hours + ' hours',
      },
      partial,
      chartFrame(box, {
        y: ticks.map((value) => ({ at: y(value), label: formatNumber(value) })),
        x: timeTicks(start, end, 7).map((at) => ({ at: x(at), label: formatClock(at) })),
        xTitle: 'time (when runs ended)',
        yTitle: 'runs per ' + per,
      }),
      bars,
      empty,
    ),
    el('p', { class: 'muted', 'data-role': 'runs-totals' }, describeTotals(overview)),
  );
}

function describeTotals(overview: FleetOverview): string {
  const { runs, coverage } = overview;
  const parts = STACK.slice()
    .reverse()
    .filter((status) => runs.totals[status])
    .map((status) => formatNumber(runs.totals[status]) + ' ' + statusLabel(status));
  const ended = sum(runs.totals);
  return (
    (ended === 0
      ? 'No run ended in the window.'
      : formatNumber(ended) + ' runs ended: ' + parts.join(', ') + '.') +
    ' Read ' +
    formatNumber(coverage.runs_read) +
    ' recent runs of ' +
    formatNumber(coverage.agents_read) +
    ' agents' +
    (coverage.complete_since
      ? ' (bounded: complete from ' + formatTime(coverage.complete_since) + ').'
      : '.')
  );
}

/** Failed runs per hour, and the newest failures beside them. */
export function renderFailuresChart(overview: FleetOverview): void {
  const { runs } = overview;
  const hours = runs.failures_by_hour;
  const box: ChartBox = { width: 420, height: 240, left: 44, right: 10, top: 16, bottom: 40 };
  const plotWidth = box.width - box.left - box.right;
  const plotHeight = box.height - box.top - box.bottom;
  const ticks = niceTicks(Math.max(...hours.map((hour) => hour.count), 0), 4, true);
  const top = topTick(ticks);
  const y = (value: number) => box.top + plotHeight * (1 - value / top);
  const slot = plotWidth / Math.max(1, hours.length);
  const x = (index: number) => box.left + index * slot;
  const labelEvery = Math.ceil(hours.length / 8);
  byId('failures-chart').replaceChildren(
    el(
      'svg:svg',
      {
        viewBox: '0 0 ' + box.width + ' ' + box.height,
        role: 'img',
        'aria-label': 'Failed runs per hour',
      },
      chartFrame(box, {
        y: ticks.map((value) => ({ at: y(value), label: formatNumber(value) })),
        x: hours
          .map((hour, index) => ({ hour, index }))
          .filter(({ index }) => index % labelEvery === 0)
          .map(({ hour, index }) => ({
            at: x(index) + slot / 2,
            label: formatClock(Date.parse(hour.start)),
          })),
        xTitle: 'hour',
        yTitle: 'failed runs',
      }),
      hours.map((hour, index) =>
        hour.count > 0
          ? [
              el(
                'svg:rect',
                {
                  class: 'bar bar-failures',
                  'data-hour': hour.start,
                  x: x(index) + slot * 0.15,
                  width: slot * 0.7,
                  y: y(hour.count),
                  height: y(0) - y(hour.count),
                },
                el(
                  'svg:title',
                  {},
                  formatTime(hour.start) +
                    '–' +
                    formatClock(Date.parse(hour.end)) +
                    ': ' +
                    hour.count +
                    ' failed',
                ),
              ),
              el(
                'svg:text',
                {
                  class: 'bar-count',
                  x: x(index) + slot / 2,
                  y: y(hour.count) - 4,
                  'text-anchor': 'middle',
                },
                String(hour.count),
              ),
            ]
          : null,
      ),
    ),
  );
  const failures = runs.recent_failures.slice(0, RECENT_FAILURES);
  byId('recent-failures').replaceChildren(
    ...(failures.length > 0
      ? failures.map((failure) =>
          el(
            'li',
            { 'data-run-id': failure.run_id },
            badge('status', failure.status),
            ' ',
            runLink(failure.run_id, failure.agent_id),
            ' ',
            el('span', { class: 'muted', title: failure.ended_at }, formatWhen(failure.ended_at)),
            failure.error
              ? el(
                  'div',
                  { class: 'error-text' },
                  failure.error.code + ': ' + failure.error.message,
                )
              : null,
          ),
        )
      : [el('li', { class: 'muted' }, 'No failures in the window.')]),
  );
}

/** The worker processes, or why there are none. */
export function renderWorkers(workers: readonly WorkerView[]): void {
  const holder = byId('workers');
  if (workers.length === 0) {
    holder.replaceChildren(
      el(
        'p',
        { class: 'muted', 'data-role': 'no-workers' },
        'No worker processes have registered. With the in-process scheduler (the default), agents run inside the Nightshift process itself (nightshift run), which needs no workers; with BullMQ, start some with nightshift worker.',
      ),
    );
    return;
  }
  const columns = ['Worker', 'Host', 'PID', 'Started', 'Heartbeat', 'Running runs'];
  holder.replaceChildren(
    el(
      'table',
      { id: 'worker-table' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          columns.map((name) => el('th', { class: name === 'PID' ? 'num' : undefined }, name)),
        ),
      ),
      el(
        'tbody',
        {},
        workers.map((worker) =>
          el(
            'tr',
            { 'data-worker-id': worker.worker_id },
            el('td', { class: 'clip', title: worker.worker_id }, worker.worker_id),
            el('td', {}, worker.host),
            el('td', { class: 'num' }, String(worker.pid)),
            el('td', { title: worker.started_at }, formatWhen(worker.started_at)),
            el(
              'td',
              { title: worker.last_heartbeat, 'data-role': 'heartbeat' },
              formatWhen(worker.last_heartbeat),
            ),
            el(
              'td',
              { 'data-role': 'running-runs' },
              worker.running_runs.length > 0
                ? worker.running_runs.map((runId, index) => [index > 0 ? ', ' : '', runLink(runId)])
                : el('span', { class: 'muted' }, 'idle'),
            ),
          ),
        ),
      ),
    ),
  );
}
