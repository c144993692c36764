import type { ApprovalRecord } from '../../../storage/contracts/approval-store.js';
import type { InboxBudgetWait, InboxPausedAgent, OperatorInbox } from '../inbox-types.js';
import { api } from './api.js';
import { byId } from './dom.js';
import { onFleetEvent } from './fleet-events.js';
import { ageTimes } from './inbox-actions.js';
import { INBOX_EVENTS, showInboxCount } from './inbox-count.js';
import { approvalItem, budgetWaitItem, pausedAgentItem } from './inbox-items.js';
import { KeyedList } from './keyed-list.js';
import { reportFailure } from './notice.js';
import { debounce } from './timing.js';
import { ready, whenReady } from './token.js';

// The operator inbox (`/inbox`): everything waiting on a person, kept current by the fleet's
// event stream; each item keeps what is typed into it while the lists around it change.

const done = () => void load();
const approvals = new KeyedList<ApprovalRecord>(byId('approvals'), {
  key: (approval) => approval.approval_id,
  render: (approval) => approvalItem(approval, done),
  empty: 'No tool call is waiting for a decision.',
});
const budgetWaits = new KeyedList<InboxBudgetWait>(byId('budget-waits'), {
  key: (wait) => wait.run_id,
  render: (wait) => budgetWaitItem(wait, done),
  empty: 'No run is waiting for budget.',
});
const pausedAgents = new KeyedList<InboxPausedAgent>(byId('paused-agents'), {
  key: (agent) => agent.agent_id,
  render: (agent) => pausedAgentItem(agent, done),
  empty: 'No agent is paused after failures.',
});

byId('inbox-link').setAttribute('aria-current', 'page');

function showCount(id: string, count: number): void {
  const chip = byId(id);
  chip.textContent = String(count);
  chip.className = 'count-chip' + (count > 0 ? ' waiting' : '');
}

let requested = 0;
async function load(): Promise<void> {
  if (!ready()) return;
  // Of reads that overlap, only the latest is shown: an older answer never undoes a newer one.
  const mine = ++requested;
  try {
    const inbox = await api<OperatorInbox>('GET', '/api/inbox');
    if (mine !== requested) return;
    approvals.update(inbox.approvals);
    budgetWaits.update(inbox.budget_waits);
    pausedAgents.update(inbox.paused_agents);
    showCount('approvals-count', inbox.counts.approvals);
    showCount('budget-waits-count', inbox.counts.budget_waits);
    showCount('paused-agents-count', inbox.counts.paused_agents);
    showInboxCount(inbox.counts);
    const total = inbox.counts.total;
    byId('inbox-summary').textContent =
      total === 0
        ? 'Nothing is waiting on a person.'
        : total + (total === 1 ? ' thing waits' : ' things wait') + ' on a person.';
    document.body.dataset.inboxLoaded = inbox.generated_at;
  } catch (error) {
    reportFailure('Could not load the inbox: ', error);
  }
}

const soon = debounce(() => void load(), 250);
whenReady(() => void load());
onFleetEvent((event) => {
  if (INBOX_EVENTS.includes(event.type)) soon();
});
// Approvals expire, and relative times age, even when no event comes.
setInterval(() => void load(), 15000);
setInterval(ageTimes, 5000);
