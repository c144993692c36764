import type { NightshiftEvent } from '../../storage/contracts/event-log.js';
import type {
  RunRecord,
  RunStatus,
  RunStep,
  ToolOutcome,
} from '../../storage/contracts/run-store.js';
import type { Usage } from '../../storage/contracts/usage.js';

// The shapes of `GET /api/runs/:run_id/report`, apart from the code that builds them: the
// dashboard's browser scripts are type-checked against them, and they import nothing that needs Node.

/** Another run of the same agent, as the report links to it. */
export interface RunLink {
  run_id: string;
  status: RunStatus;
  scheduled_at: string;
}

/** When a run was due, began and ended, and what that makes of it. */
export interface RunTiming {
  scheduled_at: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  /** From the start of the first attempt to the end of the last. */
  duration_ms: number | null;
  /** From when it was due (a manual run: requested) to when it started. */
  lateness_ms: number | null;
}

interface TimelineBase {
  /** When the entry began (ISO). */
  at: string;
  attempt: number;
}

/** A model call, with the text it answered when the run's events say so. */
export interface ModelCallEntry extends TimelineBase {
  kind: 'model_call';
  step_id: string;
  state: RunStep['state'];
  ended_at: string | null;
  duration_ms: number | null;
  usage: Usage | null;
  finish_reason: string | null;
  /** The model's text: a message beside tool calls, or the final answer. */
  reply: string | null;
}

/** A tool call, with its arguments and result (or error) from the run's events. */
export interface ToolCallEntry extends TimelineBase {
  kind: 'tool_call';
  step_id: string;
  state: RunStep['state'];
  ended_at: string | null;
  duration_ms: number | null;
  tool_name: string;
  tool_call_id: string | null;
  outcome: ToolOutcome | null;
  /** Absent when the run's events were not read (or are gone from the log). */
  arguments?: unknown;
  result?: unknown;
  error: string | null;
}

/** An event of the run that is not part of a step: the query, warnings, errors, the outcome. */
export interface EventEntry extends TimelineBase {
  kind: 'event';
  event: NightshiftEvent;
}

/** One line of a run's timeline. */
export type TimelineEntry = ModelCallEntry | ToolCallEntry | EventEntry;

/** Everything the run page and `nightshift runs show` say about one run. */
export interface RunReport {
  run: RunRecord;
  steps: RunStep[];
  timing: RunTiming;
  /** Steps and events in the order they happened. */
  timeline: TimelineEntry[];
  /** The run's events, oldest first; null when they were not read (a store read directly). */
  events: NightshiftEvent[] | null;
  /** False when there were more events than one bounded read holds: `events` is their start. */
  events_complete: boolean;
  /** The agent's run scheduled just before this one, and just after. */
  previous_run: RunLink | null;
  next_run: RunLink | null;
}
