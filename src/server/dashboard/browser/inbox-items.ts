import type { ApprovalRecord } from '../../../storage/contracts/approval-store.js';
import type { BudgetStopInfo } from '../../../storage/contracts/run-store.js';
import type { GrantTarget, InboxBudgetWait, InboxPausedAgent } from '../inbox-types.js';
import type { RunReport } from '../run-report-types.js';
import { agentPath, api } from './api.js';
import { el, type Child } from './dom.js';
import { formatJson, formatTime, formatUsd } from './format.js';
import { actionButton, errorBox, when } from './inbox-actions.js';
import { conversationOf } from './inbox-conversation.js';
import { errorMessage } from './notice.js';
import { agentLink, badge, runLink } from './widgets.js';

// The items of the inbox, one per thing waiting on a person, each with the buttons that decide it.

const runPath = (runId: string) => '/api/runs/' + encodeURIComponent(runId);
const approvalPath = (approvalId: string) => '/api/approvals/' + encodeURIComponent(approvalId);

const head = (...what: Child[]) =>
  el('div', { class: 'head' }, el('span', { class: 'what' }, what));
const facts = (...parts: Child[]) => el('span', { class: 'facts' }, parts);
const label = (text: string) => el('div', { class: 'label' }, text);

/** A text field wrapped in its visible label. */
function field(
  text: string,
  className: string,
  input: HTMLInputElement,
): { wrapper: HTMLElement; input: HTMLInputElement } {
  return { wrapper: el('label', { class: className }, text, input), input };
}

function noteField(placeholder: string): { wrapper: HTMLElement; input: HTMLInputElement } {
  return field(
    'Note',
    'note-field',
    el('input', {
      type: 'text',
      name: 'note',
      'data-role': 'note',
      placeholder,
      maxlength: 2000,
      autocomplete: 'off',
    }),
  );
}

const noteOf = (input: HTMLInputElement) =>
  input.value.trim() ? { note: input.value.trim() } : {};

/** The run's conversation so far, read from its report each time it is opened. */
function conversationDetails(runId: string): HTMLElement {
  const body = el(
    'div',
    { 'data-role': 'conversation-body' },
    el('p', { class: 'muted' }, 'Loading…'),
  );
  const details = el(
    'details',
    { 'data-role': 'conversation' },
    el('summary', {}, 'Conversation so far'),
    body,
  );
  details.addEventListener('toggle', () => {
    if (!details.open) return;
    api<RunReport>('GET', runPath(runId) + '/report')
      .then((report) => {
        body.replaceChildren(conversationOf(report));
        body.dataset.loaded = 'true';
      })
      .catch((error: unknown) => {
        body.replaceChildren(
          el('p', { class: 'error-text' }, 'Could not read the run: ' + errorMessage(error)),
        );
      });
  });
  return details;
}

/**
 * The edited arguments to approve with: undefined when they are the model's unchanged. Throws,
 * saying why, when they are not a JSON object.
 */
function editedArguments(text: string, original: unknown): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error('Edited arguments are not JSON: ' + errorMessage(error), { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('Edited arguments must be a JSON object, as the tool takes.');
  return JSON.stringify(parsed) === JSON.stringify(original)
    ? undefined
    : (parsed as Record<string, unknown>);
}

/** A tool call waiting for a decision: what it would do, the run so far, approve or deny. */
export function approvalItem(approval: ApprovalRecord, done: () => void): HTMLElement {
  const what = approval.tool_name + ' in run ' + approval.run_id;
  const original = formatJson(approval.arguments);
  const note = noteField('why (a denial tells the model)');
  const edited = el('textarea', {
    class: 'edited-arguments',
    name: 'arguments',
    'data-role': 'edited-arguments',
    'aria-label': 'Arguments to approve ' + what + ' with',
    spellcheck: 'false',
  });
  edited.value = original;
  const edit = el(
    'details',
    { 'data-role': 'edit-arguments' },
    el('summary', {}, 'Approve with edited arguments'),
    el(
      'div',
      { class: 'muted' },
      'A JSON object. While this is open, Approve runs the call with it instead (recorded as edited).',
    ),
    edited,
  );
  const approve = actionButton(
    {
      action: 'approve',
      label: 'Approve',
      describe: 'Approve ' + what,
      needsName: true,
      primary: true,
      run: async (by) => {
        const changed = edit.open ? editedArguments(edited.value, approval.arguments) : undefined;
        await api('POST', approvalPath(approval.approval_id) + '/approve', {
          by,
          ...noteOf(note.input),
          ...(changed === undefined ? {} : { arguments: changed }),
        });
        return 'Approved ' + what + (changed ? ' with edited arguments.' : '.');
      },
    },
    done,
  );
  const deny = actionButton(
    {
      action: 'deny',
      label: 'Deny',
      describe: 'Deny ' + what,
      needsName: true,
      run: async (by) => {
        await api('POST', approvalPath(approval.approval_id) + '/deny', {
          by,
          ...noteOf(note.input),
        });
        return 'Denied ' + what + '.';
      },
    },
    done,
  );
  return el(
    'li',
    {
      class: 'inbox-item',
      'data-role': 'approval',
      'data-approval-id': approval.approval_id,
      'data-run-id': approval.run_id,
      'data-agent-id': approval.agent_id,
    },
    head(
      agentLink(approval.agent_id),
      ' asks to call ',
      el('code', { 'data-role': 'tool-name' }, approval.tool_name),
    ),
    el(
      'div',
      {},
      facts(
        'asked ',
        when(approval.requested_at),
        ' · expires ',
        when(approval.expires_at, 'expires'),
        ' (then ' + (approval.on_timeout === 'deny' ? 'denied' : 'approved') + ') · ',
        runLink(approval.run_id, 'run ' + approval.run_id, { 'data-role': 'run-link' }),
      ),
    ),
    label('Arguments'),
    el('pre', { class: 'arguments', 'data-role': 'arguments' }, original),
    conversationDetails(approval.run_id),
    el('div', { class: 'decide' }, note.wrapper, approve, deny),
    edit,
    errorBox(),
  );
}

/** A budget in words: `the agent's per_day budget of requests`, `tag "nightly"'s per_month …`. */
function describeBudget(budget: BudgetStopInfo | undefined, grant: GrantTarget | null): string {
  if (!budget) return 'a budget';
  const owner = !grant
    ? budget.window === 'per_run'
      ? "the run's own"
      : budget.budget
    : 'agent_id' in grant.scope
      ? "the agent's"
      : 'tag' in grant.scope
        ? 'tag "' + grant.scope.tag + '"\'s'
        : "the fleet's";
  return owner + ' ' + budget.window + ' budget of ' + budget.dimension;
}

/** What to offer to grant at first: what the refused call asked for, or one unit. */
function suggestedAmount(budget: BudgetStopInfo): string {
  if (budget.dimension === 'usd')
    return (budget.asked > 0 ? Math.ceil(budget.asked * 100) / 100 : 1).toFixed(2);
  return String(budget.asked > 0 ? Math.ceil(budget.asked) : 1);
}

function grantButton(
  wait: InboxBudgetWait,
  grant: GrantTarget,
  budget: BudgetStopInfo,
  note: HTMLInputElement,
  done: () => void,
): { amount: HTMLElement; button: HTMLButtonElement } {
  const amount = field(
    'Grant ' + (budget.dimension === 'usd' ? 'USD' : budget.dimension.replace('_', ' ')),
    'amount-field',
    el('input', {
      type: 'number',
      name: 'amount',
      'data-role': 'grant-amount',
      min: 0,
      step: budget.dimension === 'usd' ? 0.01 : 1,
      required: true,
    }),
  );
  amount.input.value = suggestedAmount(budget);
  const button = actionButton(
    {
      action: 'grant',
      label: 'Grant',
      describe: 'Grant ' + describeBudget(budget, grant) + ' more, for run ' + wait.run_id,
      needsName: true,
      primary: true,
      run: async (by) => {
        const value = Number(amount.input.value);
        if (!amount.input.value || !Number.isFinite(value) || value <= 0)
          throw new Error('The amount to grant must be a number greater than 0.');
        await api('POST', '/api/budgets/grants', {
          scope: grant.scope,
          window: grant.window,
          [budget.dimension]: value,
          by,
          ...noteOf(note),
        });
        const shown =
          budget.dimension === 'usd' ? formatUsd(value) : value + ' ' + budget.dimension;
        return 'Granted ' + shown + ' until the window resets; run ' + wait.run_id + ' goes on.';
      },
    },
    done,
  );
  return { amount: amount.wrapper, button };
}

/** A run waiting for a budget: which one, until when; grant more of it, or deny the run. */
export function budgetWaitItem(wait: InboxBudgetWait, done: () => void): HTMLElement {
  const budget = wait.error.budget;
  const note = noteField('why (kept with the grant or the denial)');
  const granting =
    budget && wait.grant ? grantButton(wait, wait.grant, budget, note.input, done) : null;
  const deny = actionButton(
    {
      action: 'deny-budget',
      label: 'Deny',
      describe: 'Deny run ' + wait.run_id + ' more budget: it ends budget_exceeded',
      needsName: true,
      run: async (by) => {
        await api('POST', runPath(wait.run_id) + '/deny-budget', { by, ...noteOf(note.input) });
        return 'Denied run ' + wait.run_id + ' more budget: it ended budget_exceeded.';
      },
    },
    done,
  );
  return el(
    'li',
    {
      class: 'inbox-item',
      'data-role': 'budget-wait',
      'data-run-id': wait.run_id,
      'data-agent-id': wait.agent_id,
    },
    head(agentLink(wait.agent_id), ' waits for budget ', badge('status', 'awaiting_budget')),
    el(
      'div',
      {},
      facts(
        'since ',
        when(wait.waiting_since),
        ' · ',
        runLink(wait.run_id, 'run ' + wait.run_id, { 'data-role': 'run-link' }),
      ),
    ),
    label('Budget'),
    el(
      'div',
      { 'data-role': 'budget' },
      describeBudget(budget, wait.grant),
      budget?.resets_at
        ? [
            ' · resets ',
            when(budget.resets_at, 'resets'),
            ' (' + formatTime(budget.resets_at) + ')',
          ]
        : null,
    ),
    el('div', { class: 'muted', 'data-role': 'reason' }, wait.error.message),
    el('div', { class: 'decide' }, granting?.amount, note.wrapper, granting?.button, deny),
    wait.grant ? null : el('div', { class: 'muted' }, 'No grant can raise this budget.'),
    errorBox(),
  );
}

/** An agent paused after failures: why, its last error; resume it. */
export function pausedAgentItem(agent: InboxPausedAgent, done: () => void): HTMLElement {
  const resume = actionButton(
    {
      action: 'resume',
      label: 'Resume',
      describe: 'Resume ' + agent.agent_id,
      needsName: false,
      primary: true,
      run: async () => {
        await api('POST', agentPath(agent.agent_id) + '/resume', {});
        return agent.agent_id + ' resumed.';
      },
    },
    done,
  );
  return el(
    'li',
    { class: 'inbox-item', 'data-role': 'paused-agent', 'data-agent-id': agent.agent_id },
    head(agentLink(agent.agent_id), ' ', badge('state', 'paused')),
    el(
      'div',
      {},
      facts(
        'paused ',
        when(agent.paused_at),
        ' · ' +
          agent.consecutive_failures +
          (agent.consecutive_failures === 1 ? ' failed run' : ' failed runs in a row'),
        agent.last_run_status ? [' · last run ', badge('status', agent.last_run_status)] : null,
      ),
    ),
    el('div', { class: 'muted', 'data-role': 'pause-reason' }, agent.pause_reason),
    agent.last_error
      ? [
          label('Last error'),
          el(
            'div',
            { class: 'error-text', 'data-role': 'last-error' },
            agent.last_error.code + ': ' + agent.last_error.message,
          ),
        ]
      : null,
    el('div', { class: 'decide' }, resume),
    errorBox(),
  );
}
