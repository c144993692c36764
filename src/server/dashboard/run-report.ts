import { NightshiftError } from '../../errors.js';
import type {
  ListRunsOptions,
  NightshiftEvent,
  RunRecord,
  RunStatus,
  RunStep,
  ToolOutcome,
  Usage,
} from '../../storage/index.js';
import { readRunEvents, type EventReader } from './event-history.js';

/** What a run report reads: the service's public methods (or a service over a store). */
export interface RunReportReader extends EventReader {
  getRun(runId: string): Promise<RunRecord>;
  getRunSteps(runId: string): Promise<RunStep[]>;
  listRuns(agentId: string, options?: ListRunsOptions): Promise<RunRecord[]>;
}

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

/** Runs read, in turn, to find a run's neighbours: most pages link to a recent run. */
const NEIGHBOUR_READS = [50, 1000];

/**
 * The report of one run: its record and steps, its events (found with bounded reads), a
 * timeline merging both, and its neighbours. `run_not_found` when there is no such run.
 */
export async function buildRunReport(
  reader: RunReportReader,
  runId: string,
  options: { events: boolean } = { events: true },
): Promise<RunReport> {
  const run = await reader.getRun(runId);
  const [steps, found, neighbours] = await Promise.all([
    reader.getRunSteps(runId),
    options.events ? readRunEvents(reader, run) : undefined,
    findNeighbours(reader, run),
  ]);
  return {
    run,
    steps,
    timing: runTiming(run),
    timeline: buildTimeline(steps, found?.events ?? []),
    events: found ? found.events : null,
    events_complete: found ? found.complete : false,
    ...neighbours,
  };
}

/** A run's timing: durations derived from its instants. */
export function runTiming(run: RunRecord): RunTiming {
  const between = (from: string | null, to: string | null) =>
    from === null || to === null ? null : Math.max(0, Date.parse(to) - Date.parse(from));
  return {
    scheduled_at: run.scheduled_at,
    created_at: run.created_at,
    started_at: run.started_at,
    ended_at: run.ended_at,
    duration_ms: between(run.started_at, run.ended_at),
    lateness_ms: between(run.scheduled_at, run.started_at),
  };
}

async function findNeighbours(
  reader: RunReportReader,
  run: RunRecord,
): Promise<{ previous_run: RunLink | null; next_run: RunLink | null }> {
  const link = (other: RunRecord | undefined): RunLink | null =>
    other ? { run_id: other.run_id, status: other.status, scheduled_at: other.scheduled_at } : null;
  let neighbours = { previous_run: null as RunLink | null, next_run: null as RunLink | null };
  for (const limit of NEIGHBOUR_READS) {
    let runs: RunRecord[];
    try {
      runs = await reader.listRuns(run.agent_id, { limit });
    } catch (error) {
      // A run outlives nothing of its agent but in a race with deleting it: it has no neighbours then.
      if (NightshiftError.isInstance(error) && error.code === 'agent_not_found') return neighbours;
      throw error;
    }
    const index = runs.findIndex((candidate) => candidate.run_id === run.run_id);
    if (index >= 0) {
      neighbours = { previous_run: link(runs[index + 1]), next_run: link(runs[index - 1]) };
      // The run's elder is known unless the run is the last one this read holds.
      if (index + 1 < runs.length || runs.length < limit) return neighbours;
    } else if (runs.length < limit) {
      return neighbours;
    }
  }
  return neighbours;
}

/** Order of entries that happen within one millisecond: the start, the query, steps, the rest. */
function rankOf(entry: TimelineEntry): number {
  if (entry.kind !== 'event') return 2;
  if (entry.event.type === 'background_task_started') return 0;
  if (entry.event.type === 'user_message') return 1;
  return 3;
}

const duration = (from: string, to: string | null) =>
  to === null ? null : Math.max(0, Date.parse(to) - Date.parse(from));

/**
 * Merges a run's steps and events: a tool call gets its arguments and result (or error) from
 * the events that name its `tool_call_id`, a model call the message or final answer emitted
 * when it ended; every other event is an entry of its own. Events carry no attempt number, so
 * each belongs to the attempt whose `background_task_started` came last before it.
 */
export function buildTimeline(
  steps: readonly RunStep[],
  events: readonly NightshiftEvent[],
): TimelineEntry[] {
  const entries: Array<{ entry: TimelineEntry; order: number }> = [];
  const toolCalls = new Map<string, ToolCallEntry>();
  const modelCalls: ModelCallEntry[] = [];
  for (const step of steps) {
    const base = {
      at: step.started_at,
      attempt: step.attempt,
      step_id: step.step_id,
      state: step.state,
      ended_at: step.ended_at,
      duration_ms: duration(step.started_at, step.ended_at),
    };
    if (step.kind === 'model_call') {
      const entry: ModelCallEntry = {
        ...base,
        kind: 'model_call',
        usage: step.usage ?? null,
        finish_reason: step.finish_reason ?? null,
        reply: null,
      };
      modelCalls.push(entry);
      entries.push({ entry, order: step.index });
    } else {
      const entry: ToolCallEntry = {
        ...base,
        kind: 'tool_call',
        tool_name: step.tool_name ?? 'unknown tool',
        tool_call_id: step.tool_call_id ?? null,
        outcome: step.outcome ?? null,
        error: step.error ?? null,
      };
      if (step.tool_call_id) toolCalls.set(`${step.attempt}:${step.tool_call_id}`, entry);
      entries.push({ entry, order: step.index });
    }
  }

  let attempt = steps[0]?.attempt ?? 1;
  events.forEach((event, position) => {
    if (event.type === 'background_task_started' || event.type === 'background_task_error') {
      attempt = event.payload.attempt;
    }
    if (
      event.type === 'tool_call_started' ||
      event.type === 'tool_call_result' ||
      event.type === 'tool_call_error'
    ) {
      const call = toolCalls.get(`${attempt}:${event.payload.tool_call_id}`);
      if (call) {
        call.arguments = event.payload.tool_args;
        if (event.type === 'tool_call_result') call.result = event.payload.result;
        if (event.type === 'tool_call_error') call.error = event.payload.error;
        return;
      }
    }
    if (event.type === 'agent_message' || event.type === 'final_answer') {
      const call = replyingCall(modelCalls, attempt, Date.parse(event.timestamp));
      if (call) {
        call.reply = event.payload.message;
        return;
      }
    }
    entries.push({
      entry: { kind: 'event', at: event.timestamp, attempt, event },
      order: position,
    });
  });

  return entries
    .sort(
      (left, right) =>
        Date.parse(left.entry.at) - Date.parse(right.entry.at) ||
        left.entry.attempt - right.entry.attempt ||
        rankOf(left.entry) - rankOf(right.entry) ||
        left.order - right.order,
    )
    .map(({ entry }) => entry);
}

/**
 * The model call a message belongs to: the latest of its attempt that had ended by then and has
 * none yet (calls come in the order they were made).
 */
function replyingCall(
  modelCalls: readonly ModelCallEntry[],
  attempt: number,
  instant: number,
): ModelCallEntry | undefined {
  let found: ModelCallEntry | undefined;
  for (const call of modelCalls) {
    if (call.attempt !== attempt || call.reply !== null || call.ended_at === null) continue;
    if (Date.parse(call.ended_at) > instant) continue;
    found = call;
  }
  return found;
}
