import { html } from './html-template.js';
import { renderPage } from './page-layout.js';

const FLEET_SCRIPT = String.raw`
'use strict';
(() => {
  const { el, api, badge, formatNumber, formatWhen, formatTime, actionButtons } = Nightshift;
  const byId = (id) => document.getElementById(id);
  const rows = byId('fleet-rows');
  const filter = byId('state-filter');
  const summary = byId('fleet-summary');
  const windowSelect = byId('overview-hours');
  const STATES = ['active', 'paused', 'stopped', 'created', 'invalid'];
  /** Bottom to top: failures first, so they stand on the axis where they are easiest to compare. */
  const STACK = ['failed', 'timed_out', 'budget_exceeded', 'interrupted', 'cancelled', 'skipped', 'completed'];
  const RECENT_FAILURES = 5;
  const RUN_ENDS = ['background_task_completed', 'background_task_error', 'background_task_skipped', 'background_agent_status'];
  const params = new URLSearchParams(location.search);
  filter.value = params.get('state') || '';
  windowSelect.value = params.get('hours') || '3';
  const keepInUrl = (name, value, fallback) => {
    const url = new URL(location.href);
    if (value && value !== fallback) url.searchParams.set(name, value); else url.searchParams.delete(name);
    history.replaceState(null, '', url);
  };
  filter.addEventListener('change', () => {
    keepInUrl('state', filter.value, '');
    refresh();
  });
  windowSelect.addEventListener('change', () => {
    keepInUrl('hours', windowSelect.value, '3');
    refreshOverview();
  });

  const row = (agent) => el('tr', { 'data-agent-id': agent.agent_id },
    el('td', {}, el('a', { href: '/agents/' + encodeURIComponent(agent.agent_id) }, agent.agent_id),
      agent.pause_reason ? el('div', { class: 'muted' }, agent.pause_reason) : null,
      agent.invalid_reason ? el('div', { class: 'error-text', 'data-role': 'invalid-reason' }, agent.invalid_reason) : null),
    el('td', {}, badge('state', agent.state), agent.is_running ? el('span', { class: 'muted' }, ' running') : null),
    el('td', { title: agent.last_error ? agent.last_error.code + ': ' + agent.last_error.message : formatTime(agent.last_run_at) }, agent.last_run_status ? badge('status', agent.last_run_status) : el('span', { class: 'muted' }, 'never'),
      agent.last_run_at ? el('span', { class: 'muted' }, ' ' + formatWhen(agent.last_run_at)) : null),
    el('td', { title: formatTime(agent.next_run_at) }, formatWhen(agent.next_run_at)),
    el('td', { class: 'num', 'data-role': 'runs' }, formatNumber(agent.run_count)),
    el('td', { class: 'num' }, formatNumber(agent.error_count)),
    el('td', { class: 'num' }, formatNumber(agent.skip_count)),
    el('td', { class: 'num' }, formatNumber(agent.missed_count)),
    el('td', { class: 'num' }, formatNumber(agent.total_tokens)),
    el('td', {}, actionButtons(agent, refresh)),
  );

  async function refresh() {
    if (!Nightshift.ready()) return;
    try {
      const query = filter.value ? '?state=' + encodeURIComponent(filter.value) : '';
      const { agents } = await api('GET', '/api/agents' + query);
      rows.replaceChildren(...(agents.length > 0 ? agents.map(row)
        : [el('tr', {}, el('td', { colspan: 10, class: 'empty' }, filter.value ? 'No ' + filter.value + ' agents.' : 'No agents yet.'))]));
      const running = agents.filter((agent) => agent.is_running).length;
      summary.textContent = agents.length + (agents.length === 1 ? ' agent' : ' agents') + (running ? ', ' + running + ' running' : '');
    } catch (error) {
      if (error.message !== 'unauthorized') Nightshift.notify('Could not load the fleet: ' + error.message, 'error');
    }
  }

  const card = (label, value, options) => el('div', { class: 'card', 'data-role': options.role },
    el('div', { class: 'label' }, label),
    el('div', { class: 'value' + (options.bad ? ' bad' : '') }, value),
    options.note ? el('div', { class: 'note' }, options.note) : null,
    options.extra || null);

  function renderCards(overview) {
    const { agents, in_flight: inFlight, runs, usage_today: usage, window: span } = overview;
    const ended = Object.values(runs.totals).reduce((sum, count) => sum + count, 0);
    const chips = STATES.filter((state) => agents.by_state[state] > 0)
      .map((state) => el('span', { 'data-state': state }, badge('state', state), ' ' + agents.by_state[state]));
    byId('overview-cards').replaceChildren(
      card('Agents', formatNumber(agents.total), { role: 'agents', extra: el('div', { class: 'chips' }, chips) }),
      card('Runs in flight', formatNumber(inFlight.runs), { role: 'in-flight',
        note: inFlight.agents.length > 0 ? inFlight.agents.map((agent) => agent.agent_id).join(', ') : 'none' }),
      card('Runs, last ' + span.hours + ' h', formatNumber(ended), { role: 'runs-total' }),
      card('Failures, last ' + span.hours + ' h', formatNumber(runs.failures), { role: 'failures', bad: runs.failures > 0 }),
      card('Tokens today', (usage.complete ? '' : '≥ ') + formatNumber(usage.total_tokens), { role: 'tokens-today',
        note: formatNumber(usage.requests) + ' requests in ' + formatNumber(usage.runs) + ' runs' }),
      card('Spend today', '—', { role: 'spend-today', note: 'not tracked yet' }),
    );
    const invalid = byId('invalid-agents');
    invalid.hidden = agents.invalid.length === 0;
    invalid.replaceChildren(el('strong', {}, agents.invalid.length === 1 ? '1 agent cannot run: ' : agents.by_state.invalid + ' agents cannot run: '),
      ...agents.invalid.map((agent, index) => el('span', { 'data-agent-id': agent.agent_id },
        index > 0 ? '; ' : '', el('a', { href: '/agents/' + encodeURIComponent(agent.agent_id) }, agent.agent_id), ' (' + agent.invalid_reason + ')')));
  }

  /** Runs per bucket, stacked by status, on a time axis; a shaded band where the bounded read did not reach. */
  function renderRunsChart(overview) {
    const { runs, window: span, coverage } = overview;
    const box = { width: 720, height: 240, left: 52, right: 14, top: 12, bottom: 40 };
    const plotWidth = box.width - box.left - box.right;
    const plotHeight = box.height - box.top - box.bottom;
    const start = Date.parse(span.start);
    const bucketMs = span.bucket_minutes * 60000;
    const end = start + runs.buckets.length * bucketMs;
    const x = (at) => box.left + ((at - start) / (end - start)) * plotWidth;
    const totals = runs.buckets.map((bucket) => Object.values(bucket.counts).reduce((sum, count) => sum + count, 0));
    const ticks = Nightshift.niceTicks(Math.max(...totals, 0), 4, true);
    const top = ticks[ticks.length - 1];
    const y = (value) => box.top + plotHeight * (1 - value / top);
    const barWidth = Math.max(1, plotWidth / runs.buckets.length - (runs.buckets.length > 90 ? 0.5 : 1));
    const bars = [];
    runs.buckets.forEach((bucket, index) => {
      let base = 0;
      const at = Date.parse(bucket.start);
      const text = formatTime(bucket.start) + ': ' + STACK.filter((status) => bucket.counts[status]).map((status) => status + ' ' + bucket.counts[status]).join(', ');
      for (const status of STACK) {
        const count = bucket.counts[status] || 0;
        if (count === 0) continue;
        bars.push(el('svg:rect', { class: 'bar bar-' + status, 'data-status': status, 'data-bucket': index, x: x(at).toFixed(2), width: barWidth.toFixed(2),
          y: y(base + count).toFixed(2), height: (y(base) - y(base + count)).toFixed(2) }, el('svg:title', {}, text)));
        base += count;
      }
    });
    const partial = [];
    if (coverage.complete_since && Date.parse(coverage.complete_since) > start) {
      const until = Math.min(end, Date.parse(coverage.complete_since));
      partial.push(el('svg:rect', { class: 'partial', x: box.left, y: box.top, width: x(until) - box.left, height: plotHeight },
        el('svg:title', {}, 'Before ' + formatTime(coverage.complete_since) + ' some agents had more runs than the overview reads: counts there are incomplete.')),
        el('svg:text', { class: 'partial-label', x: box.left + 6, y: box.top + 14 }, 'partial before ' + Nightshift.formatClock(until)));
    }
    const empty = totals.every((total) => total === 0)
      ? [el('svg:text', { class: 'empty-label', x: box.left + plotWidth / 2, y: box.top + plotHeight / 2, 'text-anchor': 'middle' }, 'No run ended in the last ' + span.hours + ' h')]
      : [];
    const per = span.bucket_minutes === 1 ? 'minute' : span.bucket_minutes + ' min';
    byId('runs-chart').replaceChildren(
      el('div', { class: 'legend' }, STACK.slice().reverse().map((status) =>
        el('span', {}, el('span', { class: 'swatch block bar-' + status }), status.replace('_', ' ')))),
      el('svg:svg', { viewBox: '0 0 ' + box.width + ' ' + box.height, role: 'img', 'aria-label': 'Runs per ' + per + ' by status, last ' + span.hours + ' hours' },
        partial,
        Nightshift.chartFrame(box, {
          y: ticks.map((value) => ({ at: y(value), label: formatNumber(value) })),
          x: Nightshift.timeTicks(start, end, 7).map((at) => ({ at: x(at), label: Nightshift.formatClock(at) })),
          xTitle: 'time (when runs ended)',
          yTitle: 'runs per ' + per,
        }),
        bars,
        empty),
      el('p', { class: 'muted', 'data-role': 'runs-totals' }, describeTotals(overview)));
  }

  function describeTotals(overview) {
    const { runs, coverage } = overview;
    const parts = STACK.slice().reverse().filter((status) => runs.totals[status]).map((status) => formatNumber(runs.totals[status]) + ' ' + status.replace('_', ' '));
    const ended = Object.values(runs.totals).reduce((sum, count) => sum + count, 0);
    return (ended === 0 ? 'No run ended in the window.' : formatNumber(ended) + ' runs ended: ' + parts.join(', ') + '.')
      + ' Read ' + formatNumber(coverage.runs_read) + ' recent runs of ' + formatNumber(coverage.agents_read) + ' agents'
      + (coverage.complete_since ? ' (bounded: complete from ' + formatTime(coverage.complete_since) + ').' : '.');
  }

  function renderFailuresChart(overview) {
    const { runs } = overview;
    const hours = runs.failures_by_hour;
    const box = { width: 420, height: 240, left: 44, right: 10, top: 16, bottom: 40 };
    const plotWidth = box.width - box.left - box.right;
    const plotHeight = box.height - box.top - box.bottom;
    const ticks = Nightshift.niceTicks(Math.max(...hours.map((hour) => hour.count), 0), 4, true);
    const top = ticks[ticks.length - 1];
    const y = (value) => box.top + plotHeight * (1 - value / top);
    const slot = plotWidth / Math.max(1, hours.length);
    const x = (index) => box.left + index * slot;
    const labelEvery = Math.ceil(hours.length / 8);
    byId('failures-chart').replaceChildren(
      el('svg:svg', { viewBox: '0 0 ' + box.width + ' ' + box.height, role: 'img', 'aria-label': 'Failed runs per hour' },
        Nightshift.chartFrame(box, {
          y: ticks.map((value) => ({ at: y(value), label: formatNumber(value) })),
          x: hours.map((hour, index) => ({ index, hour })).filter(({ index }) => index % labelEvery === 0)
            .map(({ hour, index }) => ({ at: x(index) + slot / 2, label: Nightshift.formatClock(Date.parse(hour.start)) })),
          xTitle: 'hour',
          yTitle: 'failed runs',
        }),
        hours.map((hour, index) => hour.count > 0 ? [
          el('svg:rect', { class: 'bar bar-failures', 'data-hour': hour.start, x: x(index) + slot * 0.15, width: slot * 0.7, y: y(hour.count), height: y(0) - y(hour.count) },
            el('svg:title', {}, formatTime(hour.start) + '–' + Nightshift.formatClock(Date.parse(hour.end)) + ': ' + hour.count + ' failed')),
          el('svg:text', { class: 'bar-count', x: x(index) + slot / 2, y: y(hour.count) - 4, 'text-anchor': 'middle' }, String(hour.count)),
        ] : null)));
    const list = byId('recent-failures');
    list.replaceChildren(...(runs.recent_failures.length > 0 ? runs.recent_failures.slice(0, RECENT_FAILURES).map((failure) => el('li', { 'data-run-id': failure.run_id },
      badge('status', failure.status), ' ', Nightshift.runLink(failure.run_id, failure.agent_id), ' ',
      el('span', { class: 'muted', title: failure.ended_at }, formatWhen(failure.ended_at)),
      failure.error ? el('div', { class: 'error-text' }, failure.error.code + ': ' + failure.error.message) : null))
      : [el('li', { class: 'muted' }, 'No failures in the window.')]));
  }

  function renderWorkers(workers) {
    const holder = byId('workers');
    if (workers.length === 0) {
      holder.replaceChildren(el('p', { class: 'muted', 'data-role': 'no-workers' },
        'No worker processes have registered. With the in-process scheduler (the default), agents run inside the Nightshift process itself (nightshift run), which needs no workers; with BullMQ, start some with nightshift worker.'));
      return;
    }
    holder.replaceChildren(el('table', { id: 'worker-table' },
      el('thead', {}, el('tr', {}, ['Worker', 'Host', 'PID', 'Started', 'Heartbeat', 'Running runs'].map((name) => el('th', { class: name === 'PID' ? 'num' : undefined }, name)))),
      el('tbody', {}, workers.map((worker) => el('tr', { 'data-worker-id': worker.worker_id },
        el('td', { class: 'clip', title: worker.worker_id }, worker.worker_id),
        el('td', {}, worker.host),
        el('td', { class: 'num' }, String(worker.pid)),
        el('td', { title: worker.started_at }, formatWhen(worker.started_at)),
        el('td', { title: worker.last_heartbeat, 'data-role': 'heartbeat' }, formatWhen(worker.last_heartbeat)),
        el('td', { 'data-role': 'running-runs' }, worker.running_runs.length > 0
          ? worker.running_runs.map((runId, index) => [index > 0 ? ', ' : '', Nightshift.runLink(runId)])
          : el('span', { class: 'muted' }, 'idle')))))));
  }

  /** The local midnight of the viewer, so "today" is their day. */
  const localMidnight = () => {
    const date = new Date();
    date.setHours(0, 0, 0, 0);
    return date.toISOString();
  };

  async function refreshOverview() {
    if (!Nightshift.ready()) return;
    try {
      const [overview, { workers }] = await Promise.all([
        api('GET', '/api/overview?hours=' + encodeURIComponent(windowSelect.value) + '&day_start=' + encodeURIComponent(localMidnight())),
        api('GET', '/api/workers'),
      ]);
      renderCards(overview);
      renderRunsChart(overview);
      renderFailuresChart(overview);
      renderWorkers(workers);
      byId('overview').dataset.generatedAt = overview.generated_at;
    } catch (error) {
      if (error.message !== 'unauthorized') Nightshift.notify('Could not load the overview: ' + error.message, 'error');
    }
  }

  const soon = Nightshift.debounce(refresh, 250);
  // The overview reads more than the table: after runs end, at most every few seconds.
  const overviewSoon = Nightshift.throttle(refreshOverview, 3000);
  let stream;
  const start = () => {
    refresh();
    refreshOverview();
    if (!stream) stream = Nightshift.stream('/api/events', (event) => {
      soon();
      if (RUN_ENDS.includes(event.type)) overviewSoon();
    });
  };
  Nightshift.onToken(start);
  if (Nightshift.ready()) start();
  // Relative times ("in 4 s") age even when no event comes.
  setInterval(() => Nightshift.ready() && refresh(), 15000);
  setInterval(() => Nightshift.ready() && refreshOverview(), 30000);
})();
`;

/**
 * The fleet page (`/`): an overview (agents by state, runs in flight, runs per minute by status,
 * failures per hour, tokens today, the workers) above every agent with its state, last and next
 * run and counters, filterable by state.
 */
export function renderFleetPage(options: { tokenRequired: boolean; nonce: string }): string {
  return renderPage({
    title: 'Fleet',
    ...options,
    main: html`<section class="toolbar">
        <h1>Fleet</h1>
        <span id="fleet-summary" class="muted"></span>
      </section>
      <section id="overview" aria-label="Overview">
        <div id="overview-cards" class="cards"></div>
        <div id="invalid-agents" class="notice error" hidden></div>
        <div class="overview-grid">
          <section class="panel">
            <div class="panel-head">
              <h2>Runs by status</h2>
              <span class="spacer"></span>
              <label for="overview-hours">Window</label>
              <select id="overview-hours">
                <option value="1">1 hour</option>
                <option value="3">3 hours</option>
                <option value="6">6 hours</option>
                <option value="12">12 hours</option>
                <option value="24">24 hours</option>
              </select>
            </div>
            <div id="runs-chart" class="chart"></div>
          </section>
          <section class="panel">
            <h2>Failures</h2>
            <div id="failures-chart" class="chart"></div>
            <ul id="recent-failures" class="plain"></ul>
          </section>
        </div>
        <section class="panel">
          <h2>Workers</h2>
          <div id="workers"><p class="muted">Loading…</p></div>
        </section>
      </section>
      <section class="toolbar">
        <h2>Agents</h2>
        <span class="spacer"></span>
        <label for="state-filter">State</label>
        <select id="state-filter">
          <option value="">all</option>
          <option value="active">active</option>
          <option value="paused">paused</option>
          <option value="stopped">stopped</option>
          <option value="created">created</option>
          <option value="invalid">invalid</option>
        </select>
      </section>
      <div class="panel flush">
        <table id="fleet">
          <thead>
            <tr>
              <th>Agent</th>
              <th>State</th>
              <th>Last run</th>
              <th>Next run</th>
              <th class="num">Runs</th>
              <th class="num">Errors</th>
              <th class="num">Skipped</th>
              <th class="num">Missed</th>
              <th class="num">Tokens</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody id="fleet-rows">
            <tr>
              <td colspan="10" class="empty">Loading…</td>
            </tr>
          </tbody>
        </table>
      </div>`,
    script: FLEET_SCRIPT,
  });
}
