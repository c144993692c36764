import { formatUsd } from '../server/index.js';
import type { NightshiftEvent } from '../storage/index.js';
import { truncate } from './table.js';

/** Longest error message or skip reason printed on a run line. */
const LONGEST_REASON = 200;

/** Turns events into run lines; undefined for events that get no line (messages, tool calls). */
export type EventLineFormatter = (event: NightshiftEvent) => string | undefined;

/** `2026-11-25T09:00:00Z`: the instant to the second, as a run line starts. */
export function formatInstant(isoInstant: string): string {
  return isoInstant.replace(/\.\d+Z$/, 'Z');
}

/**
 * A formatter of the lines `nightshift run` prints: one when a run (attempt) starts, one when it
 * resumes from its journal, one when it ends (completed, failed, timed out, …), one per skipped
 * or missed tick and per change of an agent's state. It remembers when each run's latest attempt
 * started, to say how long a failed one took.
 */
export function createEventLineFormatter(): EventLineFormatter {
  const attemptStarts = new Map<string, number>();
  return (event) => {
    const head = `${formatInstant(event.timestamp)} ${event.agent_id}`;
    switch (event.type) {
      case 'background_task_started': {
        if (event.run_id) attemptStarts.set(event.run_id, Date.parse(event.timestamp));
        // A run its schedule did not start says what did: `manual`, or `backfill` of a past tick.
        const { trigger } = event.payload;
        const cause =
          trigger === 'schedule'
            ? ''
            : trigger === 'backfill'
              ? `, backfill of ${formatInstant(event.payload.scheduled_at)}`
              : `, ${trigger}`;
        return `${head} run started (attempt ${event.payload.attempt}${cause})`;
      }
      case 'background_task_resumed': {
        const { attempt, from_step: from, skipped_model_calls: skipped } = event.payload;
        const unknown = event.payload.unknown_outcome_calls;
        const where = from === null ? 'from the start' : `from step ${from}`;
        const notAgain =
          unknown === 0 ? '' : `, ${unknown} tool call${unknown === 1 ? '' : 's'} not run again`;
        return `${head} resumed (attempt ${attempt} ${where}: ${skipped} model call${skipped === 1 ? '' : 's'} from the journal${notAgain})`;
      }
      case 'background_task_completed': {
        if (event.run_id) attemptStarts.delete(event.run_id);
        const { duration_ms: duration, usage } = event.payload;
        // A free or unpriced model's run has no cost: the line says nothing of money then.
        const cost = usage.cost_usd === undefined ? '' : `, ${formatUsd(usage.cost_usd)}`;
        return `${head} completed in ${duration} ms, ${usage.total_tokens} tokens${cost}`;
      }
      case 'background_task_error': {
        const { error, status, will_retry: willRetry } = event.payload;
        const started = event.run_id ? attemptStarts.get(event.run_id) : undefined;
        if (event.run_id && !willRetry) attemptStarts.delete(event.run_id);
        const message = truncate(error.message, LONGEST_REASON);
        const reason = error.code === status ? message : `${error.code}: ${message}`;
        const took =
          started === undefined
            ? ''
            : ` in ${Math.max(0, Date.parse(event.timestamp) - started)} ms`;
        return `${head} ${status} (${reason})${took}${willRetry ? ', will retry' : ''}`;
      }
      case 'background_task_waiting': {
        const { error, until, status } = event.payload;
        if (status === 'awaiting_approval' && error.approval) {
          const { approval_id: id, tool_name: tool } = error.approval;
          const end = until ? ` (until ${formatInstant(until)})` : '';
          return `${head} awaiting_approval of ${tool}${end}; \`nightshift approvals approve ${id} --by <you>\` or \`deny\``;
        }
        const reason = `${error.code}: ${truncate(error.message, LONGEST_REASON)}`;
        const end = until ? `until ${formatInstant(until)} or a grant` : 'until a grant';
        return `${head} ${status} (${reason}), waiting ${end}; \`nightshift budgets deny ${event.run_id ?? ''}\` ends it`;
      }
      case 'approval_decided': {
        const { approval_id: id, state, decided_by: by, note, edited } = event.payload;
        const how = edited ? ' with edited arguments' : '';
        return `${head} approval ${id} ${state}${how} by ${by}${note ? ` (${truncate(note, LONGEST_REASON)})` : ''}`;
      }
      case 'background_task_skipped':
        return `${head} skipped (${truncate(event.payload.reason, LONGEST_REASON)})`;
      case 'background_task_missed': {
        const { missed, last_missed_at: last } = event.payload;
        return `${head} missed ${missed} tick${missed === 1 ? '' : 's'} (last ${formatInstant(last)})`;
      }
      case 'background_agent_status': {
        const { state, pause_reason: pauseReason, reason } = event.payload;
        const why = pauseReason ?? (reason !== undefined && reason !== state ? reason : undefined);
        return `${head} ${state}${why ? ` (${why})` : ''}`;
      }
      default:
        return undefined;
    }
  };
}
