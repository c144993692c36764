import { agentPath, api } from './api.js';
import type { AgentView } from './api-types.js';
import { el, type Attributes, type Child } from './dom.js';
import { notify, reportFailure } from './notice.js';

/** A state or status as a coloured badge (`data-role` names which). */
export function badge(kind: 'state' | 'status', value: string | null): HTMLElement {
  return el('span', { class: kind + ' ' + kind + '-' + value, 'data-role': kind }, value || '–');
}

/** The dashboard page of a run. */
function runPage(runId: string): string {
  return '/runs/' + encodeURIComponent(runId);
}

/** A link to a run's page, titled with its id. */
export function runLink(runId: string, text?: Child, attributes?: Attributes): HTMLElement {
  return el(
    'a',
    { href: runPage(runId), title: runId, ...attributes },
    text === undefined ? runId : text,
  );
}

/** A link to an agent's page. */
export function agentLink(agentId: string): HTMLElement {
  return el('a', { href: '/agents/' + encodeURIComponent(agentId) }, agentId);
}

/** How a {@link card} looks. */
export interface CardOptions {
  role?: string;
  small?: boolean;
  bad?: boolean;
  note?: string | null;
  extra?: Child;
}

/** A labelled figure in a row of cards. */
export function card(label: string, value: Child, options: CardOptions = {}): HTMLElement {
  return el(
    'div',
    { class: 'card', 'data-role': options.role },
    el('div', { class: 'label' }, label),
    el(
      'div',
      { class: 'value' + (options.small ? ' small' : '') + (options.bad ? ' bad' : '') },
      value,
    ),
    options.note ? el('div', { class: 'note' }, options.note) : null,
    options.extra ?? null,
  );
}

type Action = 'start' | 'pause' | 'resume' | 'stop' | 'run';

/**
 * The lifecycle buttons that apply to an agent in its state; each calls the API, then done().
 * An invalid agent gets none: only an update of its definition makes it runnable again.
 */
export function actionButtons(agent: AgentView, done: () => void): HTMLElement {
  const actions: Array<[Action, string]> = [];
  if (agent.state === 'created' || agent.state === 'stopped') actions.push(['start', 'Start']);
  if (agent.state === 'active') actions.push(['pause', 'Pause']);
  if (agent.state === 'paused') actions.push(['resume', 'Resume']);
  if (agent.state === 'active' || agent.state === 'paused') actions.push(['stop', 'Stop']);
  if (agent.state !== 'invalid') actions.push(['run', 'Run now']);
  return el(
    'div',
    { class: 'actions' },
    actions.map(([action, label]) => {
      const button = el(
        'button',
        { type: 'button', 'data-action': action, title: label + ' ' + agent.agent_id },
        label,
      );
      button.addEventListener('click', () => {
        button.disabled = true;
        api<{ run_id: string; state: string }>('POST', agentPath(agent.agent_id) + '/' + action, {})
          .then((result) =>
            notify(
              action === 'run'
                ? 'Run ' + result.run_id + ' started.'
                : agent.agent_id + ': ' + result.state + '.',
            ),
          )
          .catch((error: unknown) => reportFailure(agent.agent_id + ': ', error))
          .finally(() => {
            button.disabled = false;
            done();
          });
      });
      return button;
    }),
  );
}
