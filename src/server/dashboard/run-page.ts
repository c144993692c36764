import { html } from './html-template.js';
import { renderPage, type PageRequest } from './page-layout.js';
import { numeric, tableShell } from './table-shell.js';

const ATTEMPT_COLUMNS = [
  numeric('Attempt'),
  'Status',
  'Worker',
  'Started',
  'Ended',
  numeric('Duration'),
  numeric('Tokens'),
  'Error',
];

/**
 * One run's page (`/runs/:run_id`): status, timings, usage and cost, the
 * attempts (and where each resumed), the step timeline with model replies, tool arguments,
 * outcomes and results, and resume markers, the run's events, and links to the agent's
 * previous and next runs.
 */
export function renderRunPage(request: PageRequest, runId: string): string {
  return renderPage(
    request,
    runId,
    html`<div id="run" data-run-id="${runId}">
      <nav class="crumbs"><a href="/">Fleet</a> / <span id="run-agent">…</span> / ${runId}</nav>
      <section class="toolbar">
        <h1>Run ${runId}</h1>
        <span id="run-status"></span>
        <span class="spacer"></span>
        <nav id="run-pager" class="pager" aria-label="Runs of this agent"></nav>
      </section>
      <section id="run-cards" class="cards"></section>
      <section class="panel" id="run-outcome"></section>
      <section class="panel" id="run-replay" hidden></section>
      <section class="panel flush">
        ${tableShell({ id: 'attempts', bodyId: 'attempt-rows', columns: ATTEMPT_COLUMNS })}
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
  );
}
