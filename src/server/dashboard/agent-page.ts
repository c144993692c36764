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
  const HISTORY = 50;
  const FAILED = ['failed', 'timed_out', 'budget_exceeded', 'interrupted'];

  const card = (label, value, small) => el('div', { class: 'card' },
    el('div', { class: 'label' }, label), el('div', { class: small ? 'value small' : 'value' }, value));

  function renderStatus(agent) {
    byId('agent-state').replaceChildren(...[badge('state', agent.state), agent.is_running ? el('span', { class: 'muted' }, ' running') : null].filter(Boolean));
    byId('agent-actions').replaceChildren(actionButtons(agent, refresh));
    byId('agent-cards').replaceChildren(...[
      agent.state === 'invalid' ? card('Why invalid', agent.invalid_reason || 'the stored definition cannot run', true) : null,
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
        el('td', {}, Nightshift.runLink(run.run_id, formatTime(run.started_at || run.scheduled_at), { 'data-role': 'run-link' })),
        el('td', {}, run.trigger),
        el('td', {}, badge('status', run.status)),
        el('td', { class: 'num' }, formatDuration(durationOf(run))),
        el('td', { class: 'num' }, formatNumber(run.usage ? run.usage.total_tokens : 0)),
        el('td', { class: 'clip', title: detail }, detail),
      );
    }) : [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No runs yet.'))]));
    renderChart(runs.filter((run) => run.ended_at && run.status !== 'skipped').slice(0, CHART_RUNS).reverse());
  }

  /**
   * Duration (left axis) and tokens (right axis) of the last runs, oldest to newest, each axis
   * scaled to round ticks; failed runs are marked in red.
   */
  function renderChart(runs) {
    const holder = byId('run-chart');
    if (runs.length === 0) {
      holder.replaceChildren(el('p', { class: 'muted' }, 'The chart appears after the first finished run.'));
      return;
    }
    const box = { width: 640, height: 230, left: 64, right: 60, top: 12, bottom: 38 };
    const plotWidth = box.width - box.left - box.right;
    const plotHeight = box.height - box.top - box.bottom;
    const durations = runs.map((run) => durationOf(run) || 0);
    const tokens = runs.map((run) => (run.usage ? run.usage.total_tokens : 0));
    // Whole milliseconds: finer ticks would print the same rounded label twice.
    const durationTicks = Nightshift.niceTicks(Math.max(...durations), 4, true);
    const tokenTicks = Nightshift.niceTicks(Math.max(...tokens), 4, true);
    const durationTop = durationTicks[durationTicks.length - 1];
    const tokenTop = tokenTicks[tokenTicks.length - 1];
    const x = (index) => box.left + (runs.length === 1 ? plotWidth / 2 : (index * plotWidth) / (runs.length - 1));
    const y = (value, top) => box.top + plotHeight * (1 - value / top);
    const points = (values, top) => values.map((value, index) => x(index).toFixed(1) + ',' + y(value, top).toFixed(1)).join(' ');
    const labelled = Math.min(runs.length, 5);
    const xTicks = [];
    for (let step = 0; step < labelled; step += 1) {
      const index = labelled === 1 ? runs.length - 1 : Math.round((step * (runs.length - 1)) / (labelled - 1));
      const anchor = runs.length > 1 && index === 0 ? 'start' : runs.length > 1 && index === runs.length - 1 ? 'end' : 'middle';
      xTicks.push({ at: x(index), label: formatTime(runs[index].started_at), anchor });
    }
    const failed = runs.map((run, index) => ({ run, index })).filter(({ run }) => FAILED.includes(run.status));
    const svg = el('svg:svg', { viewBox: '0 0 ' + box.width + ' ' + box.height, role: 'img', 'aria-label': 'Duration and tokens of the last ' + runs.length + ' runs' },
      Nightshift.chartFrame(box, {
        y: durationTicks.map((value) => ({ at: y(value, durationTop), label: formatDuration(value) })),
        yRight: tokenTicks.map((value) => ({ at: y(value, tokenTop), label: formatNumber(value) })),
        x: xTicks,
        xTitle: 'last ' + runs.length + ' finished runs, oldest → newest (start time)',
        yTitle: 'duration',
        yRightTitle: 'tokens',
      }),
      failed.map(({ index }) => el('svg:line', { class: 'failed-mark', x1: x(index), x2: x(index), y1: box.top, y2: box.height - box.bottom })),
      el('svg:polyline', { class: 'duration', points: points(durations, durationTop) }),
      el('svg:polyline', { class: 'tokens', points: points(tokens, tokenTop) }),
      tokens.map((value, index) => el('svg:circle', { class: 'dot-tokens', cx: x(index), cy: y(value, tokenTop), r: 3 },
        el('svg:title', {}, runs[index].run_id + ': ' + formatNumber(value) + ' tokens'))),
      durations.map((value, index) => {
        const run = runs[index];
        const bad = FAILED.includes(run.status);
        const text = run.run_id + ': ' + run.status + ' in ' + formatDuration(value) + (run.error ? ' (' + run.error.code + ': ' + run.error.message + ')' : '');
        return el('svg:circle', { class: bad ? 'dot-failed' : 'dot-duration', cx: x(index), cy: y(value, durationTop), r: bad ? 5 : 3, 'data-run-id': run.run_id },
          el('svg:title', {}, text));
      }),
    );
    holder.replaceChildren(
      el('div', { class: 'legend' },
        el('span', {}, el('span', { class: 'swatch duration' }), 'duration'),
        el('span', {}, el('span', { class: 'swatch tokens' }), 'tokens'),
        el('span', {}, el('span', { class: 'swatch failed' }), failed.length + ' failed')),
      svg);
  }

  const log = byId('event-log');
  const seen = new Set();
  function addEvent(event) {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    const empty = log.querySelector('.empty');
    if (empty) empty.remove();
    log.prepend(Nightshift.eventItem(event, { runLinks: true }));
    while (log.children.length > LOG_LIMIT) log.lastElementChild.remove();
  }

  /** The newest events first, then live ones from right after them: no gap, no repeat. */
  async function followEvents() {
    let since = '0';
    try {
      const { events } = await api('GET', '/api/events/recent?agent_id=' + encodeURIComponent(agentId) + '&limit=' + HISTORY);
      events.forEach(addEvent);
      if (events.length > 0) since = events[events.length - 1].id;
      if (events.length === 0) log.replaceChildren(el('li', { class: 'empty' }, 'No events yet: they appear here as they happen.'));
    } catch (error) {
      if (error.message === 'unauthorized') return false;
      Nightshift.notify(agentId + ': could not load recent events: ' + error.message, 'error');
    }
    Nightshift.stream(path + '/events?since=' + encodeURIComponent(since), (event) => { addEvent(event); soon(); });
    return true;
  }

  async function refresh() {
    if (!Nightshift.ready()) return;
    try {
      const [agent, { runs }, { next_runs: nextRuns }] = await Promise.all([
        api('GET', path), api('GET', path + '/runs?limit=50'), api('GET', path + '/next-runs?n=5').catch(() => ({ next_runs: [] })),
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
  let following = false;
  const start = async () => {
    refresh();
    loadDefinition();
    if (!following) {
      following = true;
      following = await followEvents();
    }
  };
  Nightshift.onToken(start);
  if (Nightshift.ready()) start();
  setInterval(() => Nightshift.ready() && refresh(), 15000);
})();
`;

/**
 * One agent's page (`/agents/:agent_id`): status, actions, run history (each run linking to
 * its page) and chart, the live log (from the recent history on), definition, next runs.
 */
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
          <h2>Live events <span class="muted">· newest first; click one for its payload</span></h2>
          <ol id="event-log" class="event-log">
            <li class="empty">Loading recent events…</li>
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
