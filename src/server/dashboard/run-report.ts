import { NightshiftError } from '../../errors.js';
import type { ListRunsOptions, NightshiftEvent, RunRecord, RunStep } from '../../storage/index.js';
import { readRunEvents, type EventReader } from './event-history.js';
import type {
  ModelCallEntry,
  RunLink,
  RunReport,
  RunTiming,
  TimelineEntry,
  ToolCallEntry,
} from './run-report-types.js';

// The report's shapes have their own file (the browser scripts read them); callers of the
// report keep importing them from here.
export type { RunLink, RunReport, RunTiming, TimelineEntry } from './run-report-types.js';

/** What a run report reads: the service's public methods (or a service over a store). */
export interface RunReportReader extends EventReader {
  getRun(runId: string): Promise<RunRecord>;
  getRunSteps(runId: string): Promise<RunStep[]>;
  listRuns(agentId: string, options?: ListRunsOptions): Promise<RunRecord[]>;
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
function runTiming(run: RunRecord): RunTiming {
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
function buildTimeline(
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
