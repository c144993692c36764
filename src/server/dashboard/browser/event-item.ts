import type { NightshiftEvent } from '../../../storage/contracts/event-log.js';
import { el } from './dom.js';
import { formatDuration, formatJson, formatNumber, formatTime } from './format.js';
import { isBadEventType } from './vocabulary.js';
import { runLink } from './widgets.js';

const plural = (count: number, noun: string) => count + ' ' + noun + (count === 1 ? '' : 's');

/** One line about an event, for logs and timelines. */
export function summarizeEvent(event: NightshiftEvent): string {
  switch (event.type) {
    case 'background_task_started': {
      const { trigger, attempt, query } = event.payload;
      return trigger + ' run, attempt ' + attempt + ': ' + query;
    }
    case 'background_task_resumed': {
      const { attempt, from_step: from } = event.payload;
      return (
        'attempt ' +
        attempt +
        (from === null ? ' resumed' : ' resumed from step ' + from) +
        ': ' +
        plural(event.payload.skipped_model_calls, 'model call') +
        ' answered from the journal, ' +
        plural(event.payload.unknown_outcome_calls, 'tool call') +
        ' not run again'
      );
    }
    case 'user_message':
    case 'agent_message':
    case 'final_answer':
      return event.payload.message;
    case 'tool_call_started':
      return event.payload.tool_name + ' ' + JSON.stringify(event.payload.tool_args);
    case 'tool_call_result':
      return event.payload.tool_name + ' → ' + JSON.stringify(event.payload.result);
    case 'tool_call_error':
      return event.payload.unknown_outcome
        ? event.payload.tool_name + ': not run again: outcome unknown'
        : event.payload.tool_name + ': ' + event.payload.error;
    case 'run_warning':
      return event.payload.code + ': ' + event.payload.message;
    case 'background_task_completed': {
      const { duration_ms: duration, usage } = event.payload;
      return (
        'completed in ' +
        formatDuration(duration) +
        ', ' +
        formatNumber(usage?.total_tokens) +
        ' tokens'
      );
    }
    case 'background_task_error': {
      const { status, error, will_retry: willRetry } = event.payload;
      return status + ' (' + error.code + '): ' + error.message + (willRetry ? ', will retry' : '');
    }
    case 'background_task_skipped':
      return 'skipped: ' + event.payload.reason;
    case 'background_task_missed':
      return event.payload.missed + ' missed, last ' + formatTime(event.payload.last_missed_at);
    case 'background_agent_status': {
      const { state, reason } = event.payload;
      return state + (reason ? ' (' + reason + ')' : '');
    }
    default:
      // A type this page does not know yet (a newer server): its payload as it is.
      return JSON.stringify((event as { payload: unknown }).payload);
  }
}

/** True for events that report something that went wrong. */
export function isBadEvent(event: NightshiftEvent): boolean {
  return isBadEventType(event.type);
}

/**
 * An event as a log line that opens on click (a native <details>, so no handler is needed to
 * toggle it) to show its whole payload; the payload is printed only when first opened, so a
 * long log of large tool results stays light. With runLinks, it links to its run's page.
 */
export function eventItem(
  event: NightshiftEvent,
  options: { runLinks?: boolean } = {},
): HTMLElement {
  const text = summarizeEvent(event);
  const payload = el('pre', { class: 'payload' });
  const details = el(
    'details',
    {},
    el(
      'summary',
      {},
      el('span', { class: 'muted', title: event.timestamp }, formatTime(event.timestamp)),
      el('span', { class: isBadEvent(event) ? 'type bad' : 'type' }, event.type),
      el('span', { class: 'summary', title: text }, text),
      options.runLinks && event.run_id
        ? runLink(event.run_id, 'run ›', { class: 'run-link' })
        : el('span'),
    ),
    payload,
  );
  details.addEventListener('toggle', () => {
    if (details.open && !payload.textContent) payload.textContent = formatJson(event.payload);
  });
  return el(
    'li',
    {
      'data-event-type': event.type,
      'data-event-id': event.id,
      'data-run-id': event.run_id || undefined,
    },
    details,
  );
}
