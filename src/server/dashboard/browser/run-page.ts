import type { RunLink, RunReport } from '../run-report-types.js';
import { agentPath, api } from './api.js';
import { byId, el, replaceChildren, type Child } from './dom.js';
import { followStream, type EventStream } from './event-stream.js';
import { formatDuration, formatJson, formatNumber, formatTime, formatUsd } from './format.js';
import { followInboxCount } from './inbox-count.js';
import { reportFailure } from './notice.js';
import { renderReplayPanel } from './replay-panel.js';
import { block, renderEvents, renderTimeline } from './run-timeline.js';
import { debounce } from './timing.js';
import { ready, whenReady } from './token.js';
import { isFailedStatus, isTerminalStatus } from './vocabulary.js';
import { agentLink, badge, card, runLink } from './widgets.js';

// One run's page (`/runs/:run_id`): it follows a run in flight until it ends.

const runId = document.querySelector<HTMLElement>('main [data-run-id]')?.dataset.runId ?? '';

const between = (from: string | null, to: string | null) =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null;

function renderHead(report: RunReport): void {
  const { run } = report;
  document.title = run.run_id + ' · Nightshift';
  byId('run-agent').replaceChildren(agentLink(run.agent_id));
  byId('run-status').replaceChildren(
    badge('status', run.status),
    el('span', { class: 'muted' }, ' ' + run.trigger + ' run'),
  );
  const pager = (link: RunLink | null, label: string, id: string) =>
    link
      ? runLink(link.run_id, label, {
          id,
          title: link.run_id + ' (' + link.status + ', ' + formatTime(link.scheduled_at) + ')',
        })
      : el('span', { id, class: 'disabled' }, label);
  byId('run-pager').replaceChildren(
    pager(report.previous_run, '← previous run', 'previous-run'),
    pager(report.next_run, 'next run →', 'next-run'),
  );
}

function renderCards(report: RunReport): void {
  const { run, timing } = report;
  const small = { small: true };
  const cost = run.usage.cost_usd;
  byId('run-cards').replaceChildren(
    card('Status', run.status, { role: 'status-card', bad: isFailedStatus(run.status) }),
    card('Scheduled', formatTime(timing.scheduled_at), small),
    card('Started', formatTime(timing.started_at), small),
    card('Ended', formatTime(timing.ended_at), small),
    card('Duration', formatDuration(timing.duration_ms), { role: 'duration' }),
    card('Lateness', formatDuration(timing.lateness_ms), { note: 'start − scheduled' }),
    card('Attempts', formatNumber(run.attempts.length)),
    card('Requests', formatNumber(run.usage.requests), { role: 'requests' }),
    card('Tokens', formatNumber(run.usage.total_tokens), {
      role: 'tokens',
      note:
        formatNumber(run.usage.input_tokens) +
        ' in, ' +
        formatNumber(run.usage.output_tokens) +
        ' out',
    }),
    card('Cost', cost === undefined ? '—' : formatUsd(cost), {
      role: 'cost',
      note: cost === undefined ? 'the model is free or unpriced' : null,
    }),
  );
}

function renderOutcome(report: RunReport): void {
  const { run } = report;
  const parts: Child[] = [];
  if (run.error) {
    const blocked = run.error.retry_blocked
      ? ' (not retried: a tool with side effects had started)'
      : '';
    parts.push(
      el('div', { class: 'label' }, 'Error'),
      el(
        'p',
        { class: 'error-text', 'data-role': 'run-error' },
        run.error.code + ': ' + run.error.message + blocked,
      ),
    );
  }
  if (run.skip_reason)
    parts.push(el('div', { class: 'label' }, 'Skipped'), el('p', {}, run.skip_reason));
  if (run.output !== null && run.output !== undefined)
    parts.push(block('Output', run.output, 'output'));
  // The answer parsed (the agent has an output_schema): shown as JSON, pretty-printed.
  if (run.output_json !== null && run.output_json !== undefined)
    parts.push(block('Output (JSON)', formatJson(run.output_json), 'output-json'));
  if (!isTerminalStatus(run.status)) {
    parts.push(
      el('p', { class: 'muted' }, 'The run is ' + run.status + '; this page follows it live.'),
    );
  }
  parts.push(block('Query', run.query, 'query'));
  replaceChildren(byId('run-outcome'), parts);
}

function renderAttempts(report: RunReport): void {
  const rows = report.run.attempts.map((attempt) => {
    const error = attempt.error ? attempt.error.code + ': ' + attempt.error.message : '';
    return el(
      'tr',
      { 'data-attempt': attempt.attempt },
      el('td', { class: 'num' }, String(attempt.attempt)),
      el(
        'td',
        {},
        badge('status', attempt.status),
        attempt.resumed_from === undefined
          ? null
          : el(
              'span',
              { class: 'muted', 'data-role': 'resumed-from' },
              attempt.resumed_from === null
                ? ' resumed with no step recorded before'
                : ' resumed from step ' + attempt.resumed_from,
            ),
      ),
      el('td', { class: 'clip', title: attempt.worker_id || '' }, attempt.worker_id || '–'),
      el('td', { title: attempt.started_at }, formatTime(attempt.started_at)),
      el('td', { title: attempt.ended_at || '' }, formatTime(attempt.ended_at)),
      el('td', { class: 'num' }, formatDuration(between(attempt.started_at, attempt.ended_at))),
      el('td', { class: 'num' }, formatNumber(attempt.usage.total_tokens)),
      el('td', { class: 'clip', title: error }, error),
    );
  });
  const none =
    report.run.status === 'skipped'
      ? 'Skipped: no attempt was made.'
      : 'No attempt has started yet.';
  byId('attempt-rows').replaceChildren(
    ...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 8, class: 'empty' }, none))]),
  );
}

let stream: EventStream | null = null;
let lastEventId: string | null = null;
async function load(): Promise<void> {
  if (!ready()) return;
  try {
    const report = await api<RunReport>(
      'GET',
      '/api/runs/' + encodeURIComponent(runId) + '/report',
    );
    renderHead(report);
    renderCards(report);
    renderOutcome(report);
    renderAttempts(report);
    renderTimeline(report);
    renderEvents(report);
    await renderReplayPanel(report.run);
    byId('run').dataset.loaded = 'true';
    lastEventId = report.events?.at(-1)?.id ?? lastEventId;
    const ended = isTerminalStatus(report.run.status);
    if (ended && stream) {
      stream.close();
      stream = null;
    }
    // A run in flight: its agent's events say when there is more to show.
    if (!ended && !stream) {
      stream = followStream(
        agentPath(report.run.agent_id) + '/events?since=' + encodeURIComponent(lastEventId ?? '0'),
        (event) => {
          if (event.run_id === runId) soon();
        },
      );
    }
  } catch (error) {
    reportFailure(runId + ': ', error);
  }
}

const soon = debounce(() => void load(), 250);
whenReady(() => void load());
followInboxCount();
