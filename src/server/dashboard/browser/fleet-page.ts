import type { EventType } from '../../../storage/contracts/event-log.js';
import type { BudgetsOverview } from '../budget-types.js';
import type { FleetOverview } from '../fleet-overview-types.js';
import { api } from './api.js';
import type { AgentView, WorkerView } from './api-types.js';
import { renderBudgets } from './budget-panel.js';
import { byId, el } from './dom.js';
import { followStream, type EventStream } from './event-stream.js';
import { formatNumber, formatTime, formatUsd, formatWhen } from './format.js';
import { followInboxCount } from './inbox-count.js';
import {
  renderCards,
  renderFailuresChart,
  renderRunsChart,
  renderWorkers,
} from './fleet-overview-panels.js';
import { reportFailure } from './notice.js';
import { pauseNoteText, tagLabels } from './pause-note.js';
import { TagFilter } from './tag-filter.js';
import { debounce, throttle } from './timing.js';
import { ready, whenReady } from './token.js';
import { actionButtons, agentLink, badge } from './widgets.js';

// The fleet page (`/`): the overview above the table of agents, kept current by the event stream.

/**
 * Events after which the overview and the budgets are read again (a run ended, an agent changed
 * state, a budget ran out or was granted more).
 */
const OVERVIEW_EVENTS: readonly EventType[] = [
  'background_task_completed',
  'background_task_error',
  'background_task_skipped',
  'background_agent_status',
  'budget_exhausted',
  'budget_granted',
];

const rows = byId('fleet-rows');
const filter = byId<HTMLSelectElement>('state-filter');
const summary = byId('fleet-summary');
const windowSelect = byId<HTMLSelectElement>('overview-hours');
const parameters = new URLSearchParams(location.search);
filter.value = parameters.get('state') ?? '';
windowSelect.value = parameters.get('hours') ?? '3';

/** Keeps a choice in the address, so a reload or a shared link shows the same view. */
function keepInUrl(name: string, value: string, fallback: string): void {
  const url = new URL(location.href);
  if (value && value !== fallback) url.searchParams.set(name, value);
  else url.searchParams.delete(name);
  history.replaceState(null, '', url);
}

const muted = (text: string) => el('span', { class: 'muted' }, text);

// Agents are filtered here, by state and by tag, so the tag list is the whole fleet's.
const tagFilter = new TagFilter(
  parameters.get('tag') ?? '',
  (tag) => {
    keepInUrl('tag', tag, '');
    void refresh();
  },
  () => void refresh(),
);

function row(agent: AgentView): HTMLElement {
  const lastError = agent.last_error;
  return el(
    'tr',
    { 'data-agent-id': agent.agent_id },
    el(
      'td',
      {},
      agentLink(agent.agent_id),
      agent.pause_reason ? el('div', { class: 'muted' }, agent.pause_reason) : null,
      pauseNoteText(agent)
        ? el('div', { class: 'muted', 'data-role': 'pause-note' }, pauseNoteText(agent))
        : null,
      tagLabels(agent),
      agent.invalid_reason
        ? el('div', { class: 'error-text', 'data-role': 'invalid-reason' }, agent.invalid_reason)
        : null,
    ),
    el(
      'td',
      {},
      badge('state', agent.state),
      agent.is_running ? muted(' running') : null,
      agent.waiting_runs > 0
        ? el(
            'span',
            { class: 'muted', 'data-role': 'waiting-runs' },
            ` ${agent.waiting_runs} waiting`,
          )
        : null,
    ),
    el(
      'td',
      {
        title: lastError
          ? lastError.code + ': ' + lastError.message
          : formatTime(agent.last_run_at),
      },
      agent.last_run_status ? badge('status', agent.last_run_status) : muted('never'),
      agent.last_run_at ? muted(' ' + formatWhen(agent.last_run_at)) : null,
    ),
    el('td', { title: formatTime(agent.next_run_at) }, formatWhen(agent.next_run_at)),
    el('td', { class: 'num', 'data-role': 'runs' }, formatNumber(agent.run_count)),
    el('td', { class: 'num' }, formatNumber(agent.error_count)),
    el('td', { class: 'num' }, formatNumber(agent.skip_count)),
    el('td', { class: 'num' }, formatNumber(agent.missed_count)),
    el('td', { class: 'num' }, formatNumber(agent.total_tokens)),
    el(
      'td',
      { class: 'num', 'data-role': 'cost-today', title: "in the agent's time zone" },
      formatUsd(agent.cost_today_usd),
    ),
    el(
      'td',
      {
        class: 'num',
        'data-role': 'cost-month',
        title: formatUsd(agent.cost_total_usd) + ' in all',
      },
      formatUsd(agent.cost_month_usd),
    ),
    el(
      'td',
      {},
      actionButtons(agent, () => void refresh()),
    ),
  );
}

async function refresh(): Promise<void> {
  if (!ready()) return;
  try {
    const { agents: fleet } = await api<{ agents: AgentView[] }>('GET', '/api/agents');
    tagFilter.update(fleet);
    const agents = fleet.filter(
      (agent) => (!filter.value || agent.state === filter.value) && tagFilter.matches(agent),
    );
    const empty =
      fleet.length === 0
        ? 'No agents yet.'
        : 'No ' +
          (filter.value ? filter.value + ' ' : '') +
          'agents' +
          (tagFilter.value ? ' with the tag ' + tagFilter.value : '') +
          '.';
    rows.replaceChildren(
      ...(agents.length > 0
        ? agents.map(row)
        : [el('tr', {}, el('td', { colspan: 12, class: 'empty' }, empty))]),
    );
    const running = agents.filter((agent) => agent.is_running).length;
    summary.textContent =
      agents.length +
      (agents.length === 1 ? ' agent' : ' agents') +
      (running ? ', ' + running + ' running' : '');
  } catch (error) {
    reportFailure('Could not load the fleet: ', error);
  }
}

/** The local midnight of the viewer, so "today" is their day. */
function localMidnight(): string {
  const date = new Date();
  date.setHours(0, 0, 0, 0);
  return date.toISOString();
}

async function refreshOverview(): Promise<void> {
  if (!ready()) return;
  try {
    const [overview, { workers }] = await Promise.all([
      api<FleetOverview>(
        'GET',
        '/api/overview?hours=' +
          encodeURIComponent(windowSelect.value) +
          '&day_start=' +
          encodeURIComponent(localMidnight()),
      ),
      api<{ workers: WorkerView[] }>('GET', '/api/workers'),
    ]);
    renderCards(overview);
    renderRunsChart(overview);
    renderFailuresChart(overview);
    renderWorkers(workers);
    byId('overview').dataset.generatedAt = overview.generated_at;
  } catch (error) {
    reportFailure('Could not load the overview: ', error);
  }
}

/** The budgets panel, read on its own: a failure there leaves the rest of the overview shown. */
async function refreshBudgets(): Promise<void> {
  if (!ready()) return;
  try {
    renderBudgets(await api<BudgetsOverview>('GET', '/api/budgets'));
    byId('budgets').dataset.loaded = 'true';
  } catch (error) {
    reportFailure('Could not load the budgets: ', error);
  }
}

/** The overview and the budgets beside it. */
function refreshOverviewAndBudgets(): void {
  void refreshOverview();
  void refreshBudgets();
}

filter.addEventListener('change', () => {
  keepInUrl('state', filter.value, '');
  void refresh();
});
windowSelect.addEventListener('change', () => {
  keepInUrl('hours', windowSelect.value, '3');
  void refreshOverview();
});

const soon = debounce(() => void refresh(), 250);
// The overview reads more than the table: after runs end, at most every few seconds.
const overviewSoon = throttle(refreshOverviewAndBudgets, 3000);
let stream: EventStream | undefined;
whenReady(() => {
  void refresh();
  refreshOverviewAndBudgets();
  stream ??= followStream('/api/events', (event) => {
    soon();
    if (OVERVIEW_EVENTS.includes(event.type)) overviewSoon();
  });
});
// Relative times ("in 4 s") age even when no event comes (each refresh waits for a token).
setInterval(() => void refresh(), 15000);
setInterval(refreshOverviewAndBudgets, 30000);
followInboxCount();
