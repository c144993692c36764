import type { NightshiftEvent } from '../storage/index.js';
import { formatUsd } from '../server/index.js';
import { formatInstant } from './event-line.js';
import { formatDuration } from './format-duration.js';
import { truncate } from './table.js';

/** How many characters of an event's values a summary keeps. */
export interface SummaryLengths {
  /** A message, tool arguments or a result. */
  value: number;
  /** An error message or a skip reason. */
  error: number;
}

/** What an event says, after its type: `: Check the disk.`, ` system_stats → {…}`. */
export function eventSummary(event: NightshiftEvent, longest: SummaryLengths): string {
  switch (event.type) {
    case 'user_message':
    case 'agent_message':
    case 'final_answer':
      return `: ${truncate(event.payload.message, longest.value)}`;
    case 'tool_call_started':
      return ` ${event.payload.tool_name} ${compactJson(event.payload.tool_args, longest.value)}`;
    case 'tool_call_result':
      return ` ${event.payload.tool_name} → ${compactJson(event.payload.result, longest.value)}`;
    case 'tool_call_error':
      return event.payload.unknown_outcome
        ? ` ${event.payload.tool_name}: not run again: outcome unknown`
        : ` ${event.payload.tool_name}: ${truncate(event.payload.error, longest.error)}`;
    case 'run_warning':
      return `: ${event.payload.code}: ${truncate(event.payload.message, longest.error)}`;
    case 'background_task_started':
      return ` attempt ${event.payload.attempt} (${event.payload.trigger})`;
    case 'background_task_resumed': {
      const { attempt, from_step: from, skipped_model_calls: skipped } = event.payload;
      const unknown = event.payload.unknown_outcome_calls;
      return ` attempt ${attempt} from ${from === null ? 'the start' : `step ${from}`} (${skipped} model calls from the journal, ${unknown} tool calls not run again)`;
    }
    case 'budget_exhausted':
      return `: ${event.payload.code}: ${truncate(event.payload.message, longest.error)}`;
    case 'budget_granted': {
      const { budget, by, note, expires_at: expiresAt, ...granted } = event.payload;
      const amounts = [
        granted.usd > 0 ? formatUsd(granted.usd) : '',
        granted.tokens > 0 ? `${granted.tokens} tokens` : '',
        granted.requests > 0 ? `${granted.requests} requests` : '',
        granted.tool_calls > 0 ? `${granted.tool_calls} tool calls` : '',
      ].filter(Boolean);
      const until = expiresAt === null ? '' : ` until ${formatInstant(expiresAt)}`;
      return ` ${amounts.join(', ')} on ${budget}${until} by ${by}: ${truncate(note, longest.value)}`;
    }
    case 'background_task_completed': {
      const { usage } = event.payload;
      const cost = usage.cost_usd === undefined ? '' : `, ${formatUsd(usage.cost_usd)}`;
      return ` in ${formatDuration(event.payload.duration_ms)}, ${usage.total_tokens} tokens${cost}`;
    }
    case 'background_task_error': {
      const { error, status, will_retry: willRetry } = event.payload;
      const message = truncate(`${error.code}: ${error.message}`, longest.error);
      return ` ${status} (${message})${willRetry ? ', will retry' : ''}`;
    }
    case 'background_task_skipped':
      return `: ${truncate(event.payload.reason, longest.error)}`;
    default:
      return ` ${compactJson(event.payload, longest.value)}`;
  }
}

function compactJson(value: unknown, longest: number): string {
  return truncate(JSON.stringify(value) ?? 'undefined', longest);
}
