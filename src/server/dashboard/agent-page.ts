import { html } from './html-template.js';
import { renderPage } from './page-layout.js';

const AGENT_SCRIPT = String.raw`
'use strict';
(() => {
  const { el, api, badge, formatNumber, formatDuration, formatWhen, formatTime, actionButtons, agentPath } = Nightshift;
  const agentId = document.querySelector('main [data-agent-id]').dataset.agentId;
  const path = agentPath(agentId);
  const byId = (id) => document.getElementById(id);
  const CHART_RUNS = 20;
  const LOG_LIMIT = 200;

  const card = (label, value, small) => el('div', { class: 'card' },
    el('div', { class: 'label' }, label), el('div', { class: small ? 'value small' : 'value' }, value));

  function renderStatus(agent) {
    byId('agent-state').replaceChildren(...[badge('state', agent.state), agent.is_running ? el('span', { class: 'muted' }, ' running') : null].filter(Boolean));
    byId('agent-actions').replaceChildren(actionButtons(agent, refresh));
    byId('agent-cards').replaceChildren(...[
      card('Runs', formatNumber(agent.run_count)),
      card('Errors', formatNumber(agent.error_count)),
      card('Skipped', formatNumber(agent.skip_count)),
      card('Missed', formatNumber(agent.missed_count)),
      card('Tokens', formatNumber(agent.total_tokens)),
      card('Avg duration', formatDuration(agent.avg_duration_ms)),
      card('Last run', agent.last_run_status ? agent.last_run_status + ', ' + formatWhen(agent.last_run_at) : 'never', true),
      card('Next run', agent.next_run_at ? formatWhen(agent.next_run_at) : '–', true),
      agent.pause_reason ? card('Why', agent.pause_reason, true) : null,
      agent.last_error ? card('Last error', agent.last_error.code + ': ' + agent.last_error.message, true) : null,
    ].filter(Boolean));
  }

  const durationOf = (run) => (run.started_at && run.ended_at ? Date.parse(run.ended_at) - Date.parse(run.started_at) : null);

  function renderRuns(runs) {
    const body = byId('run-rows');
    body.replaceChildren(...(runs.length > 0 ? runs.map((run) => {
      const detail = run.error ? run.error.code + ': ' + run.error.message : run.skip_reason ? 'skipped: ' + run.skip_reason : run.output || '';
      return el('tr', { 'data-run-id': run.run_id },
        el('td', { title: run.run_id }, formatTime(run.started_at || run.scheduled_at)),
        el('td', {}, run.trigger),
        el('td', {}, badge('status', run.status)),
        el('td', { class: 'num' }, formatDuration(durationOf(run))),
        el('td', { class: 'num' }, formatNumber(run.usage ? run.usage.total_tokens : 0)),
        el('td', { class: 'clip', title: detail }, detail),
      );
    }) : [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No runs yet.'))]));
    renderChart(runs.filter((run) => run.ended_at && run.status !== 'skipped').slice(0, CHART_RUNS).reverse());
  }

  /** Duration and tokens of the last runs, oldest to newest, each line scaled to its own maximum. */
  function renderChart(runs) {
    const holder = byId('run-chart');
    if (runs.length === 0) {
      holder.replaceChildren(el('p', { class: 'muted' }, 'The chart appears after the first finished run.'));
      return;
    }
    const width = 560, height = 120, left = 8, right = 8, top = 10, bottom = 18;
    const durations = runs.map((run) => durationOf(run) || 0);
    const tokens = runs.map((run) => (run.usage ? run.usage.total_tokens : 0));
    const maxDuration = Math.max(1, ...durations);
    const maxTokens = Math.max(1, ...tokens);
    const x = (index) => left + (runs.length === 1 ? (width - left - right) / 2 : (index * (width - left - right)) / (runs.length - 1));
    const y = (value, max) => top + (height - top - bottom) * (1 - value / max);
    const points = (values, max) => values.map((value, index) => x(index).toFixed(1) + ',' + y(value, max).toFixed(1)).join(' ');
    const svg = el('svg:svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'Duration and tokens of the last ' + runs.length + ' runs' },
      el('svg:line', { class: 'axis', x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }),
      el('svg:polyline', { class: 'duration', points: points(durations, maxDuration) }),
      el('svg:polyline', { class: 'tokens', points: points(tokens, maxTokens) }),
      durations.map((value, index) => el('svg:circle', { class: 'dot-duration', cx: x(index), cy: y(value, maxDuration), r: 3 },
        el('svg:title', {}, runs[index].run_id + ': ' + formatDuration(value)))),
      tokens.map((value, index) => el('svg:circle', { class: 'dot-tokens', cx: x(index), cy: y(value, maxTokens), r: 3 },
        el('svg:title', {}, runs[index].run_id + ': ' + formatNumber(value) + ' tokens'))),
      el('svg:text', { x: left, y: height - 4 }, 'oldest'),
      el('svg:text', { x: width - right, y: height - 4, 'text-anchor': 'end' }, 'newest'),
    );
    holder.replaceChildren(
      el('div', { class: 'legend' },
        el('span', {}, el('span', { class: 'swatch duration' }), 'duration (max ' + formatDuration(maxDuration) + ')'),
        el('span', {}, el('span', { class: 'swatch tokens' }), 'tokens (max ' + formatNumber(maxTokens) + ')')),
      svg);
  }

  function summarize(event) {
    const payload = event.payload || {};
    switch (event.type) {
      case 'background_task_started': return payload.trigger + ' run, attempt ' + payload.attempt + ': ' + payload.query;
      case 'user_message': case 'agent_message': case 'final_answer': return payload.message;
      case 'tool_call_started': return payload.tool_name + ' ' + JSON.stringify(payload.tool_args);
      case 'tool_call_result': return payload.tool_name + ' → ' + JSON.stringify(payload.result);
      case 'tool_call_error': return payload.tool_name + ': ' + payload.error;
      case 'background_task_completed': return 'completed in ' + formatDuration(payload.duration_ms) + ', ' + formatNumber(payload.usage && payload.usage.total_tokens) + ' tokens';
      case 'background_task_error': return payload.status + ' (' + payload.error.code + '): ' + payload.error.message + (payload.will_retry ? ', will retry' : '');
      case 'background_task_skipped': return 'skipped: ' + payload.reason;
      case 'background_task_missed': return payload.missed + ' missed, last ' + formatTime(payload.last_missed_at);
      case 'background_agent_status': return payload.state + (payload.reason ? ' (' + payload.reason + ')' : '');
      default: return JSON.stringify(payload);
    }
  }

  function addEvent(event) {
    const log = byId('event-log');
    const empty = log.querySelector('.empty');
    if (empty) empty.remove();
    const bad = event.type === 'background_task_error' || event.type === 'tool_call_error';
    const text = summarize(event);
    log.prepend(el('li', { 'data-event-type': event.type, 'data-event-id': event.id },
      el('span', { class: 'muted', title: event.timestamp }, formatTime(event.timestamp)),
      el('span', { class: bad ? 'type bad' : 'type' }, event.type),
      el('span', { class: 'summary', title: text }, text)));
    while (log.children.length > LOG_LIMIT) log.lastElementChild.remove();
  }

  async function refresh() {
    if (!Nightshift.ready()) return;
    try {
      const [agent, { runs }, { next_runs: nextRuns }] = await Promise.all([
        api('GET', path), api('GET', path + '/runs?limit=50'), api('GET', path + '/next-runs?n=5'),
      ]);
      renderStatus(agent);
      renderRuns(runs);
      byId('next-runs').replaceChildren(...(agent.state === 'active' && nextRuns.length > 0
        ? nextRuns.map((iso) => el('li', { title: iso }, formatTime(iso) + ' (' + formatWhen(iso) + ')'))
        : [el('li', { class: 'muted' }, agent.state === 'active' ? 'none: the schedule has ended' : 'none while ' + agent.state + '; as scheduled: ' + (nextRuns[0] ? formatTime(nextRuns[0]) : '–'))]));
    } catch (error) {
      if (error.message !== 'unauthorized') Nightshift.notify(agentId + ': ' + error.message, 'error');
    }
  }

  async function loadDefinition() {
    try {
      byId('definition').textContent = JSON.stringify(await api('GET', path + '/definition'), null, 2);
    } catch (error) {
      byId('definition').textContent = 'unavailable';
    }
  }

  const soon = Nightshift.debounce(refresh, 250);
  let stream;
  const start = () => {
    refresh();
    loadDefinition();
    if (!stream) stream = Nightshift.stream(path + '/events', (event) => { addEvent(event); soon(); });
  };
  Nightshift.onToken(start);
  if (Nightshift.ready()) start();
  setInterval(() => Nightshift.ready() && refresh(), 15000);
})();
`;

/** One agent's page (`/agents/:agent_id`): status, actions, run history and chart, live events, definition. */
export function renderAgentPage(options: {
  agentId: string;
  tokenRequired: boolean;
  nonce: string;
}): string {
  const { agentId, ...page } = options;
  return renderPage({
    title: agentId,
    ...page,
    main: html`<div data-agent-id="${agentId}">
      <nav class="crumbs"><a href="/">Fleet</a> / ${agentId}</nav>
      <section class="toolbar">
        <h1>${agentId}</h1>
        <span id="agent-state"></span>
        <span class="spacer"></span>
        <div id="agent-actions"></div>
      </section>
      <section id="agent-cards" class="cards"></section>
      <div class="grid">
        <section class="panel">
          <h2>Recent runs</h2>
          <div id="run-chart" class="chart"></div>
          <table id="runs">
            <thead>
              <tr>
                <th>Started</th>
                <th>Trigger</th>
                <th>Status</th>
                <th class="num">Duration</th>
                <th class="num">Tokens</th>
                <th>Output or error</th>
              </tr>
            </thead>
            <tbody id="run-rows">
              <tr>
                <td colspan="6" class="empty">Loading…</td>
              </tr>
            </tbody>
          </table>
        </section>
        <section class="panel">
          <h2>Live events</h2>
          <ol id="event-log">
            <li class="empty">Waiting for events… (they appear here as they happen)</li>
          </ol>
        </section>
      </div>
      <div class="grid">
        <section class="panel">
          <h2>Definition</h2>
          <pre id="definition">Loading…</pre>
        </section>
        <section class="panel">
          <h2>Next runs</h2>
          <ol id="next-runs" class="plain"></ol>
        </section>
      </div>
    </div>`,
    script: AGENT_SCRIPT,
  });
}
