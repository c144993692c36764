import { html, type SafeHtml } from './html-template.js';
import { renderPage, type PageRequest } from './page-layout.js';

/** One section of the inbox: a heading with its count, a line saying what it lists, its list. */
function section(options: { id: string; title: string; about: string }): SafeHtml {
  return html`<section
    class="panel"
    id="${options.id}-section"
    aria-labelledby="${options.id}-heading"
  >
    <div class="panel-head">
      <h2 id="${options.id}-heading">
        ${options.title} <span class="count-chip" id="${options.id}-count" data-role="count"></span>
      </h2>
      <span class="spacer"></span>
      <span class="muted">${options.about}</span>
    </div>
    <ol id="${options.id}" class="inbox-list" data-role="${options.id}">
      <li class="empty">Loading…</li>
    </ol>
  </section>`;
}

/**
 * The operator inbox (`/inbox`): everything waiting on a person, newest first — tool calls
 * waiting for approval (with their arguments and the run's conversation so far), runs waiting
 * for more budget, agents auto-paused after failures — each with the buttons that decide it.
 */
export function renderInboxPage(request: PageRequest): string {
  return renderPage(
    request,
    'Inbox',
    html`<nav class="crumbs"><a href="/">Fleet</a> / Inbox</nav>
      <section class="toolbar">
        <h1>Inbox</h1>
        <span id="inbox-summary" class="muted"></span>
        <span class="spacer"></span>
        <label for="operator-name">Deciding as</label>
        <input
          id="operator-name"
          data-role="operator-name"
          name="operator-name"
          autocomplete="name"
          placeholder="your name"
          maxlength="200"
        />
      </section>
      ${section({
        id: 'approvals',
        title: 'Approvals',
        about: 'tool calls waiting for a decision',
      })}
      ${section({
        id: 'budget-waits',
        title: 'Waiting for budget',
        about: 'runs stopped until more budget is granted or the window resets',
      })}
      ${section({
        id: 'paused-agents',
        title: 'Auto-paused agents',
        about: 'paused after failed runs in a row',
      })}`,
  );
}
