import type { EventType } from '../../../storage/contracts/event-log.js';
import type { InboxCounts, OperatorInbox } from '../inbox-types.js';
import { api } from './api.js';
import { byId } from './dom.js';
import { onFleetEvent } from './fleet-events.js';
import { throttle } from './timing.js';
import { ready, whenReady } from './token.js';

// The count of everything waiting on a person, in the header of every dashboard page.

/**
 * Events after which what waits on a person may have changed: an approval asked for or decided,
 * a run stopped to wait, went on (woken by a grant or a decision) or ended while waiting (denied
 * more budget, its agent stopped), an agent paused or resumed, a budget granted more.
 */
export const INBOX_EVENTS: readonly EventType[] = [
  'approval_requested',
  'approval_decided',
  'background_task_waiting',
  'background_task_started',
  'background_task_resumed',
  'background_task_error',
  'background_agent_status',
  'budget_granted',
];

/** The header reads the inbox at most this often, however busy the fleet. */
const COUNT_EVERY_MS = 1000;

/** How the count words what it counts, for its tooltip and for screen readers. */
function describeCounts(counts: InboxCounts): string {
  const parts = [
    [counts.approvals, 'approval'],
    [counts.budget_waits, 'run waiting for budget', 'runs waiting for budget'],
    [counts.paused_agents, 'auto-paused agent'],
  ] as const;
  const listed = parts
    .filter(([count]) => count > 0)
    .map(([count, one, many]) => count + ' ' + (count === 1 ? one : (many ?? one + 's')));
  return listed.length > 0 ? 'Waiting on a person: ' + listed.join(', ') : 'Nothing is waiting';
}

/** Shows the counts in the header's inbox link. */
export function showInboxCount(counts: InboxCounts): void {
  const count = byId('inbox-count');
  count.textContent = String(counts.total);
  count.dataset.count = String(counts.total);
  count.className = 'inbox-count' + (counts.total > 0 ? ' waiting' : '');
  count.hidden = false;
  const description = describeCounts(counts);
  const link = byId('inbox-link');
  link.title = description;
  link.setAttribute('aria-label', 'Inbox: ' + description.toLowerCase());
}

let requested = 0;
async function refreshCount(): Promise<void> {
  if (!ready()) return;
  // Of reads that overlap, only the latest is shown: an older answer never undoes a newer one.
  const mine = ++requested;
  try {
    const { counts } = await api<OperatorInbox>('GET', '/api/inbox');
    if (mine === requested) showInboxCount(counts);
  } catch {
    // The page reports its own failures; the header keeps the last count it knew.
  }
}

/**
 * Keeps the header's count current: read now (once the API may be called), again after events
 * that can change it (at most once a second), and every half minute (an approval that expires
 * says so only when next read).
 */
export function followInboxCount(): void {
  const soon = throttle(() => void refreshCount(), COUNT_EVERY_MS);
  whenReady(() => void refreshCount());
  onFleetEvent((event) => {
    if (INBOX_EVENTS.includes(event.type)) soon();
  });
  setInterval(() => void refreshCount(), 30000);
}
