import { NightshiftError } from '../../errors.js';
import type { ListRunsOptions, NightshiftEvent, RunRecord, RunStep } from '../../storage/index.js';
import { readRunEvents, type EventReader } from './event-history.js';
import type {
  ModelCallEntry,
  ResumeEntry,
  RunLink,
  RunReport,
  RunTiming,
  TimelineEntry,
  ToolCallEntry,
} from './run-report-types.js';

// The report's shapes have their own file (the browser scripts read them); callers of the
// report keep importing them from here.
export type {
  ResumeEntry,
  RunLink,
  RunReport,
  RunTiming,
  TimelineEntry,
} from './run-report-types.js';

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

/** Order of entries that happen within one millisecond: the start, a resume, the query, steps, the rest. */
function rankOf(entry: TimelineEntry): number {
  if (entry.kind === 'resume') return 1;
  if (entry.kind !== 'event') return 3;
  if (entry.event.type === 'background_task_started') return 0;
  if (entry.event.type === 'user_message') return 2;
  return 4;
}

const duration = (from: string, to: string | null) =>
  to === null ? null : Math.max(0, Date.parse(to) - Date.parse(from));

/** A model call of the timeline, and whether a message event was matched to it yet. */
interface ModelCallSlot {
  entry: ModelCallEntry;
  /** Its reply came from the journal: a message event only confirms it. */
  recorded: boolean;
  heard: boolean;
}

/** A step as a timeline entry: what it recorded, to be completed from the run's events. */
function stepEntry(step: RunStep): ModelCallEntry | ToolCallEntry | ResumeEntry {
  const base = {
    at: step.started_at,
    attempt: step.attempt,
    step_id: step.step_id,
  };
  if (step.kind === 'resume') {
    return {
      ...base,
      kind: 'resume',
      resumed_from: step.resumed_from ?? null,
      skipped_model_calls: null,
      unknown_outcome_calls: null,
    };
  }
  const timed = {
    ...base,
    state: step.state,
    ended_at: step.ended_at,
    duration_ms: duration(step.started_at, step.ended_at),
  };
  if (step.kind === 'model_call') {
    return {
      ...timed,
      kind: 'model_call',
      usage: step.usage ?? null,
      finish_reason: step.finish_reason ?? step.reply?.finish_reason ?? null,
      reply: step.reply && step.reply.text !== '' ? step.reply.text : null,
      tool_calls: (step.reply?.tool_calls ?? []).map((call) => ({
        tool_call_id: call.tool_call_id,
        tool_name: call.tool_name,
      })),
    };
  }
  return {
    ...timed,
    kind: 'tool_call',
    tool_name: step.tool_name ?? 'unknown tool',
    tool_call_id: step.tool_call_id ?? null,
    outcome: step.outcome ?? null,
    idempotent: step.idempotent ?? null,
    ...('args' in step ? { arguments: step.args } : {}),
    ...('result' in step ? { result: step.result } : {}),
    result_cut: step.result_cut ?? null,
    error: step.error ?? null,
  };
}

/**
 * Merges a run's steps and events. A step says what it recorded (a model call's reply, a tool
 * call's arguments and result); what it did not record comes from its events: a tool call's
 * from the events that name its `tool_call_id`, a model call's text from the message or final
 * answer emitted when it ended. A resume marker takes its attempt's `background_task_resumed`.
 * Every other event is an entry of its own. Events carry no attempt number, so each belongs to
 * the attempt whose `background_task_started` came last before it.
 */
function buildTimeline(
  steps: readonly RunStep[],
  events: readonly NightshiftEvent[],
): TimelineEntry[] {
  const entries: Array<{ entry: TimelineEntry; order: number }> = [];
  const toolCalls = new Map<string, ToolCallEntry>();
  const modelCalls: ModelCallSlot[] = [];
  const resumes = new Map<number, ResumeEntry>();
  for (const step of steps) {
    const entry = stepEntry(step);
    entries.push({ entry, order: step.index });
    if (entry.kind === 'model_call') {
      modelCalls.push({ entry, recorded: step.reply !== undefined, heard: false });
    } else if (entry.kind === 'resume') {
      resumes.set(entry.attempt, entry);
    } else if (entry.tool_call_id) {
      toolCalls.set(`${entry.attempt}:${entry.tool_call_id}`, entry);
    }
  }

  let attempt = steps[0]?.attempt ?? 1;
  events.forEach((event, position) => {
    if (
      event.type === 'background_task_started' ||
      event.type === 'background_task_resumed' ||
      event.type === 'background_task_error'
    ) {
      attempt = event.payload.attempt;
    }
    if (event.type === 'background_task_resumed') {
      const marker = resumes.get(attempt);
      if (marker) {
        // The marker is written when recovery takes the run over; the attempt goes on now.
        marker.at = event.timestamp;
        marker.skipped_model_calls = event.payload.skipped_model_calls;
        marker.unknown_outcome_calls = event.payload.unknown_outcome_calls;
        return;
      }
    }
    if (
      event.type === 'tool_call_started' ||
      event.type === 'tool_call_result' ||
      event.type === 'tool_call_error'
    ) {
      const call = toolCalls.get(`${attempt}:${event.payload.tool_call_id}`);
      if (call) {
        if (!('arguments' in call)) call.arguments = event.payload.tool_args;
        if (event.type === 'tool_call_result' && !('result' in call))
          call.result = event.payload.result;
        if (event.type === 'tool_call_error') call.error ??= event.payload.error;
        return;
      }
    }
    if (event.type === 'agent_message' || event.type === 'final_answer') {
      const call = replyingCall(modelCalls, attempt, Date.parse(event.timestamp));
      if (call) {
        call.heard = true;
        if (!call.recorded) call.entry.reply = event.payload.message;
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
 * The model call a message belongs to: the latest of its attempt that had ended by then and was
 * matched to none yet (calls come in the order they were made).
 */
function replyingCall(
  modelCalls: readonly ModelCallSlot[],
  attempt: number,
  instant: number,
): ModelCallSlot | undefined {
  let found: ModelCallSlot | undefined;
  for (const call of modelCalls) {
    const { entry } = call;
    if (entry.attempt !== attempt || call.heard || entry.ended_at === null) continue;
    if (Date.parse(entry.ended_at) > instant) continue;
    found = call;
  }
  return found;
}
