import { html } from './html-template.js';
import { renderPage } from './page-layout.js';

const RUN_SCRIPT = String.raw`
'use strict';
(() => {
  const { el, api, badge, formatNumber, formatDuration, formatTime, formatJson, agentPath } = Nightshift;
  const runId = document.querySelector('main [data-run-id]').dataset.runId;
  const byId = (id) => document.getElementById(id);
  const TERMINAL = ['completed', 'failed', 'timed_out', 'budget_exceeded', 'cancelled', 'skipped', 'interrupted'];
  const FAILED = ['failed', 'timed_out', 'budget_exceeded', 'interrupted'];

  const card = (label, value, options) => el('div', Object.assign({ class: 'card' }, options && options.role ? { 'data-role': options.role } : {}),
    el('div', { class: 'label' }, label),
    el('div', { class: 'value' + (options && options.small ? ' small' : '') + (options && options.bad ? ' bad' : '') }, value),
    options && options.note ? el('div', { class: 'note' }, options.note) : null);
  const between = (from, to) => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null);
  const tokens = (usage) => (usage ? formatNumber(usage.total_tokens) + ' (' + formatNumber(usage.input_tokens) + ' in, ' + formatNumber(usage.output_tokens) + ' out)' : '–');
  const block = (label, value, className) => [el('div', { class: 'label' }, label), el('pre', { class: className }, typeof value === 'string' ? value : formatJson(value))];

  function renderHead(report) {
    const { run } = report;
    document.title = run.run_id + ' · Nightshift';
    byId('run-agent').replaceChildren(el('a', { href: '/agents/' + encodeURIComponent(run.agent_id) }, run.agent_id));
    byId('run-status').replaceChildren(badge('status', run.status), el('span', { class: 'muted' }, ' ' + run.trigger + ' run'));
    const pager = (link, label, id) => link
      ? Nightshift.runLink(link.run_id, label, { id, title: link.run_id + ' (' + link.status + ', ' + formatTime(link.scheduled_at) + ')' })
      : el('span', { id, class: 'disabled' }, label);
    byId('run-pager').replaceChildren(pager(report.previous_run, '← previous run', 'previous-run'), pager(report.next_run, 'next run →', 'next-run'));
  }

  function renderCards(report) {
    const { run, timing } = report;
    const attempts = run.attempts.length;
    byId('run-cards').replaceChildren(
      card('Status', run.status, { role: 'status-card', bad: FAILED.includes(run.status) }),
      card('Scheduled', formatTime(timing.scheduled_at), { small: true }),
      card('Started', formatTime(timing.started_at), { small: true }),
      card('Ended', formatTime(timing.ended_at), { small: true }),
      card('Duration', formatDuration(timing.duration_ms), { role: 'duration' }),
      card('Lateness', formatDuration(timing.lateness_ms), { note: 'start − scheduled' }),
      card('Attempts', formatNumber(attempts)),
      card('Requests', formatNumber(run.usage.requests), { role: 'requests' }),
      card('Tokens', formatNumber(run.usage.total_tokens), { role: 'tokens', note: formatNumber(run.usage.input_tokens) + ' in, ' + formatNumber(run.usage.output_tokens) + ' out' }),
      // The record has no cost yet; the card shows one as soon as runs carry it.
      card('Cost', run.cost === undefined || run.cost === null ? '—' : String(run.cost), { role: 'cost', note: run.cost === undefined || run.cost === null ? 'not tracked yet' : '' }),
    );
  }

  function renderOutcome(report) {
    const { run } = report;
    const parts = [];
    if (run.error) {
      parts.push(el('div', { class: 'label' }, 'Error'),
        el('p', { class: 'error-text', 'data-role': 'run-error' }, run.error.code + ': ' + run.error.message + (run.error.retry_blocked ? ' (not retried: a tool with side effects had started)' : '')));
    }
    if (run.skip_reason) parts.push(el('div', { class: 'label' }, 'Skipped'), el('p', {}, run.skip_reason));
    if (run.output !== null && run.output !== undefined) parts.push(...block('Output', run.output, 'output'));
    if (!TERMINAL.includes(run.status)) parts.push(el('p', { class: 'muted' }, 'The run is ' + run.status + '; this page follows it live.'));
    parts.push(...block('Query', run.query, 'query'));
    byId('run-outcome').replaceChildren(...parts);
  }

  function renderAttempts(report) {
    const rows = report.run.attempts.map((attempt) => el('tr', { 'data-attempt': attempt.attempt },
      el('td', { class: 'num' }, String(attempt.attempt)),
      el('td', {}, badge('status', attempt.status)),
      el('td', { class: 'clip', title: attempt.worker_id || '' }, attempt.worker_id || '–'),
      el('td', { title: attempt.started_at }, formatTime(attempt.started_at)),
      el('td', { title: attempt.ended_at || '' }, formatTime(attempt.ended_at)),
      el('td', { class: 'num' }, formatDuration(between(attempt.started_at, attempt.ended_at))),
      el('td', { class: 'num' }, formatNumber(attempt.usage ? attempt.usage.total_tokens : 0)),
      el('td', { class: 'clip', title: attempt.error ? attempt.error.code + ': ' + attempt.error.message : '' }, attempt.error ? attempt.error.code + ': ' + attempt.error.message : ''),
    ));
    byId('attempt-rows').replaceChildren(...(rows.length > 0 ? rows
      : [el('tr', {}, el('td', { colspan: 8, class: 'empty' }, report.run.status === 'skipped' ? 'Skipped: no attempt was made.' : 'No attempt has started yet.'))]));
  }

  function timelineItem(entry, ended) {
    const facts = (...values) => el('span', { class: 'facts' }, values.filter(Boolean).join(' · '));
    // A step still "started" in an ended run is where the run stopped (the call failed or was cut off).
    const unfinished = entry.state === 'started' ? (ended ? 'never finished' : 'in progress') : null;
    if (entry.kind === 'model_call') {
      return el('li', { class: 'model_call' + (unfinished && ended ? ' bad' : ''), 'data-kind': 'model_call', 'data-step-id': entry.step_id },
        el('div', { class: 'head' },
          el('span', { class: 'what' }, 'Model call'),
          facts('step ' + entry.step_id, formatTime(entry.at), unfinished || formatDuration(entry.duration_ms),
            entry.finish_reason ? 'finish: ' + entry.finish_reason : null, entry.usage ? tokens(entry.usage) + ' tokens' : null)),
        entry.reply !== null ? block('Reply', entry.reply, 'reply') : null);
    }
    if (entry.kind === 'tool_call') {
      const bad = (entry.outcome && entry.outcome !== 'success') || (unfinished && ended);
      return el('li', { class: 'tool_call' + (bad ? ' bad' : ''), 'data-kind': 'tool_call', 'data-step-id': entry.step_id },
        el('div', { class: 'head' },
          el('span', { class: 'what' }, 'Tool call ' + entry.tool_name),
          facts('step ' + entry.step_id, formatTime(entry.at), unfinished || formatDuration(entry.duration_ms), entry.outcome)),
        'arguments' in entry ? block('Arguments', entry.arguments, 'arguments') : null,
        'result' in entry ? block('Result', entry.result, 'result') : null,
        entry.error ? el('div', { class: 'error' }, entry.error) : null);
    }
    const { event } = entry;
    if (event.type === 'background_task_started') {
      return el('li', { class: 'attempt-divider', 'data-kind': 'attempt' }, 'Attempt ' + event.payload.attempt + ' · ' + formatTime(event.timestamp));
    }
    const bad = Nightshift.isBadEvent(event);
    return el('li', { class: 'event' + (bad ? ' bad' : ''), 'data-kind': 'event', 'data-event-type': event.type },
      el('div', { class: 'head' },
        el('span', { class: 'what' }, event.type),
        facts(formatTime(event.timestamp))),
      el('div', { class: bad ? 'error' : '' }, Nightshift.summarizeEvent(event)));
  }

  function renderTimeline(report) {
    const ended = TERMINAL.includes(report.run.status);
    const items = report.timeline.map((entry) => timelineItem(entry, ended));
    byId('timeline').replaceChildren(...(items.length > 0 ? items : [el('li', { class: 'attempt-divider' }, 'Nothing happened in this run.')]));
  }

  function renderEvents(report) {
    const list = byId('run-events');
    const note = byId('events-note');
    if (report.events === null) {
      note.textContent = 'The events of this run were not read.';
      list.replaceChildren();
      return;
    }
    note.textContent = report.events_complete ? report.events.length + ' events · click one for its payload'
      : 'The first ' + report.events.length + ' events (the run has more than one read holds).';
    list.replaceChildren(...(report.events.length > 0 ? report.events.map((event) => Nightshift.eventItem(event))
      : [el('li', { class: 'empty' }, 'No events of this run are in the event log (it keeps the newest ones).')]));
  }

  let stream = null;
  let lastEventId = null;
  async function load() {
    if (!Nightshift.ready()) return;
    try {
      const report = await api('GET', '/api/runs/' + encodeURIComponent(runId) + '/report');
      renderHead(report);
      renderCards(report);
      renderOutcome(report);
      renderAttempts(report);
      renderTimeline(report);
      renderEvents(report);
      byId('run').dataset.loaded = 'true';
      const last = report.events && report.events[report.events.length - 1];
      if (last) lastEventId = last.id;
      const ended = TERMINAL.includes(report.run.status);
      if (ended && stream) { stream.close(); stream = null; }
      // A run in flight: its agent's events say when there is more to show.
      if (!ended && !stream) {
        stream = Nightshift.stream(agentPath(report.run.agent_id) + '/events?since=' + encodeURIComponent(lastEventId || '0'),
          (event) => { if (event.run_id === runId) soon(); });
      }
    } catch (error) {
      if (error.message !== 'unauthorized') Nightshift.notify(runId + ': ' + error.message, 'error');
    }
  }

  const soon = Nightshift.debounce(load, 250);
  Nightshift.onToken(load);
  if (Nightshift.ready()) load();
})();
`;

/**
 * One run's page (`/runs/:run_id`): status, timings, usage (and a place for cost), the
 * attempts, the step timeline with model replies and tool arguments and results, the run's
 * events, and links to the agent's previous and next runs.
 */
export function renderRunPage(options: {
  runId: string;
  tokenRequired: boolean;
  nonce: string;
}): string {
  const { runId, ...page } = options;
  return renderPage({
    title: runId,
    ...page,
    main: html`<div id="run" data-run-id="${runId}">
      <nav class="crumbs"><a href="/">Fleet</a> / <span id="run-agent">…</span> / ${runId}</nav>
      <section class="toolbar">
        <h1>Run ${runId}</h1>
        <span id="run-status"></span>
        <span class="spacer"></span>
        <nav id="run-pager" class="pager" aria-label="Runs of this agent"></nav>
      </section>
      <section id="run-cards" class="cards"></section>
      <section class="panel" id="run-outcome"></section>
      <section class="panel flush">
        <table id="attempts">
          <thead>
            <tr>
              <th class="num">Attempt</th>
              <th>Status</th>
              <th>Worker</th>
              <th>Started</th>
              <th>Ended</th>
              <th class="num">Duration</th>
              <th class="num">Tokens</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody id="attempt-rows">
            <tr>
              <td colspan="8" class="empty">Loading…</td>
            </tr>
          </tbody>
        </table>
      </section>
      <div class="grid">
        <section class="panel">
          <h2>Timeline</h2>
          <ol id="timeline" class="timeline">
            <li class="attempt-divider">Loading…</li>
          </ol>
        </section>
        <section class="panel">
          <div class="panel-head">
            <h2>Events</h2>
            <span id="events-note" class="muted"></span>
          </div>
          <ol id="run-events" class="event-log tall"></ol>
        </section>
      </div>
    </div>`,
    script: RUN_SCRIPT,
  });
}
