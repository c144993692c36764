import { html } from './html-template.js';
import { renderPage } from './page-layout.js';

const FLEET_SCRIPT = String.raw`
'use strict';
(() => {
  const { el, api, badge, formatNumber, formatWhen, formatTime, actionButtons } = Nightshift;
  const rows = document.getElementById('fleet-rows');
  const filter = document.getElementById('state-filter');
  const summary = document.getElementById('fleet-summary');
  filter.value = new URLSearchParams(location.search).get('state') || '';
  filter.addEventListener('change', () => {
    const url = new URL(location.href);
    if (filter.value) url.searchParams.set('state', filter.value); else url.searchParams.delete('state');
    history.replaceState(null, '', url);
    refresh();
  });

  const row = (agent) => el('tr', { 'data-agent-id': agent.agent_id },
    el('td', {}, el('a', { href: '/agents/' + encodeURIComponent(agent.agent_id) }, agent.agent_id),
      agent.pause_reason ? el('div', { class: 'muted' }, agent.pause_reason) : null),
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

  const soon = Nightshift.debounce(refresh, 250);
  let stream;
  const start = () => {
    refresh();
    if (!stream) stream = Nightshift.stream('/api/events', soon);
  };
  Nightshift.onToken(start);
  if (Nightshift.ready()) start();
  // Relative times ("in 4 s") age even when no event comes.
  setInterval(() => Nightshift.ready() && refresh(), 15000);
})();
`;

/** The fleet page (`/`): every agent with its state, last and next run and counters, filterable by state. */
export function renderFleetPage(options: { tokenRequired: boolean; nonce: string }): string {
  return renderPage({
    title: 'Fleet',
    ...options,
    main: html`<section class="toolbar">
        <h1>Fleet</h1>
        <span id="fleet-summary" class="muted"></span>
        <span class="spacer"></span>
        <label for="state-filter">State</label>
        <select id="state-filter">
          <option value="">all</option>
          <option value="active">active</option>
          <option value="paused">paused</option>
          <option value="stopped">stopped</option>
          <option value="created">created</option>
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
