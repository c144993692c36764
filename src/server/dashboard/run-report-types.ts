import type { NightshiftEvent } from '../../storage/contracts/event-log.js';
import type {
  ResultCut,
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

/** A tool call a model's reply asked for. */
export interface RequestedToolCall {
  tool_call_id: string;
  tool_name: string;
}

/** A model call, with what it answered (from its recorded reply, or else the run's events). */
export interface ModelCallEntry extends TimelineBase {
  kind: 'model_call';
  step_id: string;
  state: RunStep['state'];
  ended_at: string | null;
  duration_ms: number | null;
  usage: Usage | null;
  finish_reason: string | null;
  /** The model's text: a message beside tool calls, or the final answer (null: none, or not known). */
  reply: string | null;
  /** The tool calls the reply asked for, in order (empty when it asked for none or was not recorded). */
  tool_calls: RequestedToolCall[];
}

/** A tool call, with its arguments and result (or error) as its step records them, or the run's events. */
export interface ToolCallEntry extends TimelineBase {
  kind: 'tool_call';
  step_id: string;
  state: RunStep['state'];
  ended_at: string | null;
  duration_ms: number | null;
  tool_name: string;
  tool_call_id: string | null;
  /** `unknown_outcome`: a resumed run did not run the call again (it may have taken effect). */
  outcome: ToolOutcome | null;
  /** Whether the tool may run twice safely (null: not recorded). */
  idempotent: boolean | null;
  /** Absent when neither the step nor the run's events (not read, or gone from the log) hold them. */
  arguments?: unknown;
  result?: unknown;
  /** Set when the recorded result was cut to the journal's cap. */
  result_cut: ResultCut | null;
  error: string | null;
}

/** Where an attempt went on from the run's journal after its process died. */
export interface ResumeEntry extends TimelineBase {
  kind: 'resume';
  step_id: string;
  /** The last step recorded before the process died (null when none was). */
  resumed_from: string | null;
  /**
   * From the attempt's `background_task_resumed` event (null when it was not read): model calls
   * answered from the journal, and calls of tools that are not idempotent that were not run again.
   */
  skipped_model_calls: number | null;
  unknown_outcome_calls: number | null;
}

/** An event of the run that is not part of a step: the query, warnings, errors, the outcome. */
export interface EventEntry extends TimelineBase {
  kind: 'event';
  event: NightshiftEvent;
}

/** One line of a run's timeline. */
export type TimelineEntry = ModelCallEntry | ToolCallEntry | ResumeEntry | EventEntry;

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
