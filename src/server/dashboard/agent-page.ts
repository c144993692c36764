import { html } from './html-template.js';
import { renderPage, type PageRequest } from './page-layout.js';
import { numeric, tableShell } from './table-shell.js';

const RUN_COLUMNS = [
  'Started',
  'Trigger',
  'Status',
  numeric('Duration'),
  numeric('Tokens'),
  numeric('Cost'),
  'Output or error',
];

/**
 * One agent's page (`/agents/:agent_id`): status, actions, run history (each run linking to
 * its page) and chart, the live log (from the recent history on), definition, next runs.
 */
export function renderAgentPage(request: PageRequest, agentId: string): string {
  return renderPage(
    request,
    agentId,
    html`<div data-agent-id="${agentId}">
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
          ${tableShell({ id: 'runs', bodyId: 'run-rows', columns: RUN_COLUMNS })}
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
  );
}
