import type { NightshiftEvent } from '../../../storage/contracts/event-log.js';
import type { RunRecord } from '../../../storage/contracts/run-store.js';
import { durationOf, renderRunChart } from './agent-run-chart.js';
import { agentPath, api } from './api.js';
import type { AgentView } from './api-types.js';
import { byId, el } from './dom.js';
import { eventItem } from './event-item.js';
import { followStream } from './event-stream.js';
import { formatDuration, formatNumber, formatTime, formatUsd, formatWhen } from './format.js';
import { followInboxCount } from './inbox-count.js';
import { errorMessage, reportFailure, UNAUTHORIZED } from './notice.js';
import { debounce } from './timing.js';
import { ready, whenReady } from './token.js';
import { actionButtons, badge, card, runLink } from './widgets.js';

// One agent's page (`/agents/:agent_id`): status, actions, runs and their chart, the live log.

const agentId = document.querySelector<HTMLElement>('main [data-agent-id]')?.dataset.agentId ?? '';
const path = agentPath(agentId);
const LOG_LIMIT = 200;
const HISTORY = 50;

function renderStatus(agent: AgentView): void {
  byId('agent-state').replaceChildren(
    badge('state', agent.state),
    ...(agent.is_running ? [el('span', { class: 'muted' }, ' running')] : []),
    ...(agent.waiting_runs > 0
      ? [el('span', { class: 'muted' }, ` ${agent.waiting_runs} waiting`)]
      : []),
  );
  byId('agent-actions').replaceChildren(actionButtons(agent, () => void refresh()));
  const small = { small: true };
  byId('agent-cards').replaceChildren(
    ...[
      agent.state === 'invalid'
        ? card('Why invalid', agent.invalid_reason || 'the stored definition cannot run', small)
        : null,
      card('Runs', formatNumber(agent.run_count)),
      card('Errors', formatNumber(agent.error_count)),
      card('Skipped', formatNumber(agent.skip_count)),
      card('Missed', formatNumber(agent.missed_count)),
      card('Tokens', formatNumber(agent.total_tokens)),
      card('Spent today', formatUsd(agent.cost_today_usd), {
        role: 'cost-today',
        note: agent.schedule.timezone ? 'day in ' + agent.schedule.timezone : 'day in UTC',
      }),
      card('This month', formatUsd(agent.cost_month_usd), {
        role: 'cost-month',
        note: formatUsd(agent.cost_total_usd) + ' in all',
      }),
      card('Avg duration', formatDuration(agent.avg_duration_ms)),
      card(
        'Last run',
        agent.last_run_status
          ? agent.last_run_status + ', ' + formatWhen(agent.last_run_at)
          : 'never',
        small,
      ),
      card('Next run', agent.next_run_at ? formatWhen(agent.next_run_at) : '–', small),
      agent.pause_reason
        ? card('Why', agent.pause_reason, { ...small, role: 'pause-reason' })
        : null,
      agent.state === 'paused' && agent.paused_by
        ? card('Paused by', agent.paused_by, { ...small, role: 'paused-by' })
        : null,
      agent.state === 'paused' && agent.paused_until
        ? card('Resumes', formatTime(agent.paused_until), {
            ...small,
            role: 'paused-until',
            note: formatWhen(agent.paused_until) + ', by itself',
          })
        : null,
      agent.tags?.length ? card('Tags', agent.tags.join(', '), { ...small, role: 'tags' }) : null,
      agent.last_error
        ? card('Last error', agent.last_error.code + ': ' + agent.last_error.message, small)
        : null,
    ].filter((element) => element !== null),
  );
}

function renderRuns(runs: readonly RunRecord[]): void {
  byId('run-rows').replaceChildren(
    ...(runs.length > 0
      ? runs.map((run) => {
          const detail = run.error
            ? run.error.code + ': ' + run.error.message
            : run.skip_reason
              ? 'skipped: ' + run.skip_reason
              : run.output || '';
          return el(
            'tr',
            { 'data-run-id': run.run_id },
            el(
              'td',
              {},
              runLink(run.run_id, formatTime(run.started_at || run.scheduled_at), {
                'data-role': 'run-link',
              }),
            ),
            el('td', {}, run.trigger),
            el('td', {}, badge('status', run.status)),
            el('td', { class: 'num' }, formatDuration(durationOf(run))),
            el('td', { class: 'num' }, formatNumber(run.usage.total_tokens)),
            el(
              'td',
              { class: 'num', 'data-role': 'cost' },
              run.usage.cost_usd === undefined ? '–' : formatUsd(run.usage.cost_usd),
            ),
            el('td', { class: 'clip', title: detail }, detail),
          );
        })
      : [el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No runs yet.'))]),
  );
  renderRunChart(runs);
}

const log = byId('event-log');
const seen = new Set<string>();
function addEvent(event: NightshiftEvent): void {
  if (seen.has(event.id)) return;
  seen.add(event.id);
  log.querySelector('.empty')?.remove();
  log.prepend(eventItem(event, { runLinks: true }));
  while (log.children.length > LOG_LIMIT) log.lastElementChild?.remove();
}

/** The newest events first, then live ones from right after them: no gap, no repeat. */
async function followEvents(): Promise<boolean> {
  let since = '0';
  try {
    const { events } = await api<{ events: NightshiftEvent[] }>(
      'GET',
      '/api/events/recent?agent_id=' + encodeURIComponent(agentId) + '&limit=' + HISTORY,
    );
    events.forEach(addEvent);
    since = events.at(-1)?.id ?? since;
    if (events.length === 0) {
      log.replaceChildren(
        el('li', { class: 'empty' }, 'No events yet: they appear here as they happen.'),
      );
    }
  } catch (error) {
    if (errorMessage(error) === UNAUTHORIZED) return false;
    reportFailure(agentId + ': could not load recent events: ', error);
  }
  followStream(path + '/events?since=' + encodeURIComponent(since), (event) => {
    addEvent(event);
    soon();
  });
  return true;
}

function renderNextRuns(agent: AgentView, nextRuns: readonly string[]): void {
  const asScheduled = nextRuns[0] ? formatTime(nextRuns[0]) : '–';
  byId('next-runs').replaceChildren(
    ...(agent.state === 'active' && nextRuns.length > 0
      ? nextRuns.map((iso) =>
          el('li', { title: iso }, formatTime(iso) + ' (' + formatWhen(iso) + ')'),
        )
      : [
          el(
            'li',
            { class: 'muted' },
            agent.state === 'active'
              ? 'none: the schedule has ended'
              : 'none while ' + agent.state + '; as scheduled: ' + asScheduled,
          ),
        ]),
  );
}

async function refresh(): Promise<void> {
  if (!ready()) return;
  try {
    const [agent, { runs }, { next_runs: nextRuns }] = await Promise.all([
      api<AgentView>('GET', path),
      api<{ runs: RunRecord[] }>('GET', path + '/runs?limit=50'),
      api<{ next_runs: string[] }>('GET', path + '/next-runs?n=5').catch(() => ({ next_runs: [] })),
    ]);
    renderStatus(agent);
    renderRuns(runs);
    renderNextRuns(agent, nextRuns);
  } catch (error) {
    reportFailure(agentId + ': ', error);
  }
}

async function loadDefinition(): Promise<void> {
  const definition = byId('definition');
  try {
    definition.textContent = JSON.stringify(await api('GET', path + '/definition'), null, 2);
  } catch {
    definition.textContent = 'unavailable';
  }
}

const soon = debounce(() => void refresh(), 250);
let following = false;
whenReady(() => {
  void refresh();
  void loadDefinition();
  if (!following) {
    following = true;
    void followEvents().then((started) => (following = started));
  }
});
setInterval(() => void refresh(), 15000);
followInboxCount();
