import { AGENT_STATE_LABELS } from './dashboard-vocabulary.js';
import { html } from './html-template.js';
import { renderPage, type PageRequest } from './page-layout.js';
import { numeric, tableShell } from './table-shell.js';

const FLEET_COLUMNS = [
  'Agent',
  'State',
  'Last run',
  'Next run',
  numeric('Runs'),
  numeric('Errors'),
  numeric('Skipped'),
  numeric('Missed'),
  numeric('Tokens'),
  numeric('Spent today'),
  numeric('This month'),
  'Actions',
];

/**
 * The fleet page (`/`): an overview (agents by state, runs in flight, runs per minute by status,
 * failures per hour, tokens and spend today, each budget against its limit, the workers) above
 * every agent with its state, last and next run and counters, filterable by state and by tag,
 * with buttons that pause or resume every agent of the tag chosen.
 */
export function renderFleetPage(request: PageRequest): string {
  return renderPage(
    request,
    'Fleet',
    html`<section class="toolbar">
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
        <section class="panel" id="budgets-panel">
          <div class="panel-head">
            <h2>Budgets</h2>
            <span class="spacer"></span>
            <span class="muted">spent, and held by calls in flight, of limit + grants</span>
          </div>
          <div id="budgets"><p class="muted">Loading…</p></div>
        </section>
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
          ${Object.entries(AGENT_STATE_LABELS).map(
            ([state, label]) => html`<option value="${state}">${label}</option>`,
          )}
        </select>
        <label for="tag-filter">Tag</label>
        <select id="tag-filter">
          <option value="">all</option>
        </select>
      </section>
      <section id="tag-actions" class="toolbar" hidden>
        <span id="tag-summary" class="muted"></span>
        <input id="tag-pause-reason" type="text" maxlength="500" placeholder="why (optional)" />
        <button type="button" id="tag-pause">Pause all</button>
        <button type="button" id="tag-resume">Resume all</button>
      </section>
      <div class="panel flush">
        ${tableShell({ id: 'fleet', bodyId: 'fleet-rows', columns: FLEET_COLUMNS })}
      </div>`,
  );
}
