import type { NotificationKind } from '../../config/notifications.js';
import type { EventType, NightshiftEvent } from '../../storage/contracts/index.js';

/** Statuses a run ends in that `run_failed` alerts about (after its last retry). */
const FAILED_STATUSES: ReadonlySet<string> = new Set(['failed', 'timed_out', 'budget_exceeded']);

/** The event types {@link notificationKindOf} can find an alert in. */
export const NOTIFIED_EVENT_TYPES: readonly EventType[] = [
  'approval_requested',
  'budget_exhausted',
  'background_task_error',
  'background_agent_status',
];

/**
 * The kind of alert an event is, or undefined when it is none: `approval_requested` and
 * `budget_exhausted` are their own event types; a `background_task_error` that will not be
 * retried is `run_failed` (status failed, timed_out or budget_exceeded), one with status
 * interrupted `run_interrupted`; a `background_agent_status` announced with reason
 * `auto_paused` is `agent_auto_paused`.
 */
export function notificationKindOf(event: NightshiftEvent): NotificationKind | undefined {
  switch (event.type) {
    case 'approval_requested':
      return 'approval_requested';
    case 'budget_exhausted':
      return 'budget_exhausted';
    case 'background_task_error':
      if (event.payload.status === 'interrupted') return 'run_interrupted';
      return !event.payload.will_retry && FAILED_STATUSES.has(event.payload.status)
        ? 'run_failed'
        : undefined;
    case 'background_agent_status':
      return event.payload.reason === 'auto_paused' ? 'agent_auto_paused' : undefined;
    default:
      return undefined;
  }
}
