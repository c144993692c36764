import type { NightshiftErrorCode } from '../../errors.js';
import type { Usage } from './usage.js';
import type { RunStatus, RunTrigger, StepKind, ToolOutcome } from './vocabulary.js';

import { UNFINISHED_STATUSES, WAITING_STATUSES, type WaitingStatus } from './vocabulary.js';

export { TERMINAL_STATUSES, UNFINISHED_STATUSES, WAITING_STATUSES } from './vocabulary.js';
export type { RunStatus, RunTrigger, WaitingStatus } from './vocabulary.js';

/** True when the run has ended. */
export function isTerminal(status: RunStatus): boolean {
  return !UNFINISHED_STATUSES.includes(status);
}

/** True when the run waits for something outside it (a budget), held by no process. */
export function isWaiting(status: RunStatus): status is WaitingStatus {
  return (WAITING_STATUSES as readonly RunStatus[]).includes(status);
}

/**
 * Which budget stopped a call, on a run's error (`budget_exceeded`, `awaiting_budget`): enough
 * to say when waiting is over. Amounts in the budget's unit (dollars for `usd`).
 */
export interface BudgetStopInfo {
  /** The counter: `agent:archiver:per_day:2026-12-03`, `fleet:per_month:2026-12`, `run:<id>`. */
  budget: string;
  window: 'per_run' | 'per_day' | 'per_month';
  dimension: 'usd' | 'tokens' | 'requests' | 'tool_calls';
  /** What the refused call would have held at most (0 when the window was spent already). */
  asked: number;
  /** When the window starts again; null for a run's own budget. */
  resets_at: string | null;
}

/** A failure as recorded: a stable code (the limit's name, `timeout`, `model_error` …) and a message. */
export interface ErrorInfo {
  code: NightshiftErrorCode;
  message: string;
  /** Why a failed run was not retried although retries remained: a non-idempotent tool had started. */
  retry_blocked?: 'side_effects';
  /** The budget a `budget.*` error names, and what the refused call asked for. */
  budget?: BudgetStopInfo;
  /** The tool call an `approval_required` run waits on a person for. */
  approval?: ApprovalWaitInfo;
}

/** Which approval a run waits for (on its `approval_required` error). */
export interface ApprovalWaitInfo {
  approval_id: string;
  tool_name: string;
  /** When it expires if nobody decides. */
  expires_at: string;
}

/** One attempt of a run (retries add attempts). */
export interface AttemptRecord {
  attempt: number;
  started_at: string;
  ended_at: string | null;
  status: RunStatus;
  error: ErrorInfo | null;
  usage: Usage;
  /** The process that executed the attempt (the service's `instanceId`, a worker's id). */
  worker_id?: string;
  /**
   * Set on an attempt that went on from the run's journal after its process died: the last step
   * recorded before (null when none was). Absent on an attempt that started from the beginning.
   */
  resumed_from?: string | null;
}

/** One run of one agent: one tick, or one manual run. */
export interface RunRecord {
  /** Derived from agent_id and scheduled_at (see `runIdFor`). */
  run_id: string;
  agent_id: string;
  trigger: RunTrigger;
  scheduled_at: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  status: RunStatus;
  query: string;
  attempts: AttemptRecord[];
  output: string | null;
  /**
   * The final answer parsed, valid against the agent's `task_config.output_schema`; null
   * without a schema, or without an answer.
   */
  output_json: unknown;
  error: ErrorInfo | null;
  usage: Usage;
  /** Why a tick was skipped (`overlap`, …), for `skipped` runs. */
  skip_reason: string | null;
  /** The process that holds the run while it is `running`, and until when. */
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** A replay (`trigger: replay`): the run it replays. Absent on every other run. */
  replay_of?: string;
  /** A replay: where its model replies and tool results come from. */
  replay_mode?: ReplayMode;
}

/**
 * How a replay answers its calls: `recorded` from the original run's journal (no request, no
 * side effect), `live` afresh (the current definition's model; the tools for real).
 */
export interface ReplayMode {
  model: 'recorded' | 'live';
  tools: 'recorded' | 'live';
}

/** On a step of a replay: the original's step it was answered from or compared with, and how it differed. */
export interface StepReplay {
  /** The original run's step (null: the original had none to match). */
  source_step_id: string | null;
  /** Why this step is not what the original did at its place (absent: the same). */
  diverged?: string;
}

/** Fields of a run that move as it goes. */
export type RunPatch = Partial<
  Pick<
    RunRecord,
    | 'started_at'
    | 'ended_at'
    | 'status'
    | 'attempts'
    | 'output'
    | 'output_json'
    | 'error'
    | 'usage'
    | 'skip_reason'
    | 'lease_owner'
    | 'lease_expires_at'
  >
>;

export type { StepKind, ToolOutcome } from './vocabulary.js';

/** A tool call as the model asked for it, in a recorded reply. */
export interface RecordedToolCall {
  tool_call_id: string;
  tool_name: string;
  /** The arguments, parsed. */
  args?: unknown;
  /** The arguments as the model sent them, when they were not valid JSON. */
  args_text?: string;
}

/** What a model call answered, recorded before any tool of it runs: enough to answer it again. */
export interface ModelReply {
  text: string;
  tool_calls: RecordedToolCall[];
  finish_reason: string;
}

/** Where a stored tool result was cut to the journal's cap. */
export interface ResultCut {
  /** The cap, in characters of JSON. */
  cap_chars: number;
  /** The length of the whole result, in characters of JSON. */
  original_chars: number;
}

/**
 * One step of a run, written when it happens: a model call, or a tool call recorded
 * `started` before the tool runs, so the record shows how far a run got even if its
 * process dies mid-call.
 */
export interface RunStep {
  run_id: string;
  /** `${attempt}.${index}`, unique within the run. */
  step_id: string;
  attempt: number;
  index: number;
  kind: StepKind;
  state: 'started' | 'completed';
  started_at: string;
  ended_at: string | null;
  /** Model calls: the usage of the call, why it finished, and its reply (recorded before its tools run). */
  usage?: Usage;
  finish_reason?: string;
  reply?: ModelReply;
  /** Tool calls. */
  tool_name?: string;
  tool_call_id?: string;
  /** SHA-256 of the canonical JSON of the arguments. */
  args_digest?: string;
  /** The arguments (redacted like every stored value). */
  args?: unknown;
  /** Whether the tool may run twice safely (it decides what a resumed run does with the call). */
  idempotent?: boolean;
  outcome?: ToolOutcome;
  error?: string;
  /** What the tool returned (redacted; cut to the journal's cap, saying so in `result_cut`). */
  result?: unknown;
  result_cut?: ResultCut;
  /** Tool calls a person decided on (`agent_config.approvals`): whose decision, and what. */
  approval?: StepApproval;
  /** Resume steps: the last step recorded before the process died (null when none was). */
  resumed_from?: string | null;
  /**
   * Model calls: SHA-256 of the canonical JSON of the request as sent (prompt, tools, settings),
   * so a replay can say where it would send something else.
   */
  request_digest?: string;
  /**
   * The run's first model call: the conversation history it was sent before the query (redacted
   * like every stored value), so a replay sends the same; absent when there was none.
   */
  input_history?: unknown[];
  /** Set instead of `input_history` when the history was over the journal's cap. */
  input_history_cut?: ResultCut;
  /** Steps of a replay: where each came from and whether it diverged. */
  replay?: StepReplay;
}

/** The decision a tool call ran (or was refused) under. */
export interface StepApproval {
  approval_id: string;
  state: 'approved' | 'denied' | 'expired';
  decided_by: string | null;
  /** True when the person changed the arguments the call ran with. */
  edited: boolean;
}

/**
 * A precondition on a run update (compare-and-set): the update applies only when every given
 * field matches. It is how a process fences its writes by its lease, and how recovery takes
 * over a run exactly once.
 */
export interface RunCondition {
  /** The run is held by this owner (null: by nobody). */
  lease_owner?: string | null;
  /** The run is in one of these statuses. */
  status?: readonly RunStatus[];
  /** The run's lease is absent or expired at this instant (ISO). */
  lease_expired_at?: string;
}

/** True when the run meets the condition (shared by every backend). */
export function meetsCondition(run: RunRecord, condition: RunCondition | undefined): boolean {
  if (!condition) return true;
  if (condition.lease_owner !== undefined && run.lease_owner !== condition.lease_owner)
    return false;
  if (condition.status && !condition.status.includes(run.status)) return false;
  if (condition.lease_expired_at !== undefined && run.lease_expires_at !== null) {
    if (Date.parse(run.lease_expires_at) > Date.parse(condition.lease_expired_at)) return false;
  }
  return true;
}

/** Filters for listing runs. */
export interface ListRunsOptions {
  /** Newest first; at most this many (default 50). */
  limit?: number;
  status?: RunStatus | readonly RunStatus[];
}

/** Which ended runs {@link RunStore.pruneEnded} removes. */
export interface PruneRunsOptions {
  agent_id: string;
  /** Runs that ended before this instant (ISO). */
  ended_before: string;
  /** At most this many in one call (default 500), so no call holds a lock for long. */
  limit?: number;
  /** Counts what would go, every batch of it (no limit), and removes nothing. */
  dry_run?: boolean;
}

/** Storage of run records and their steps. */
export interface RunStore {
  /** Inserts the run unless its run_id exists (atomic insert-if-absent); false when it does. */
  claim(run: RunRecord): Promise<boolean>;
  get(runId: string): Promise<RunRecord | undefined>;
  /**
   * Applies the patch atomically; returns the new record, or undefined when the run is absent
   * or does not meet `condition`.
   */
  update(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined>;
  /** An agent's runs, newest `scheduled_at` first. */
  list(agentId: string, options?: ListRunsOptions): Promise<RunRecord[]>;
  /** Every unfinished run (`pending`, `running`, waiting): for recovery, and to wake waiting runs. */
  listUnfinished(): Promise<RunRecord[]>;
  appendStep(step: RunStep): Promise<void>;
  updateStep(runId: string, stepId: string, patch: Partial<RunStep>): Promise<void>;
  /** The run's steps in the order they were written. */
  listSteps(runId: string): Promise<RunStep[]>;
  /** Removes every run and step of an agent. */
  deleteByAgent(agentId: string): Promise<void>;
  /**
   * Retention: removes, oldest first, up to `limit` of the agent's ended runs (never an
   * unfinished one) whose `ended_at` is before `ended_before`, with their steps. Returns the ids
   * of the runs this call removed (with `dry_run`, of every run it would remove). Safe to call
   * from several processes at once: a run is removed, and returned, by one call only.
   */
  pruneEnded(options: PruneRunsOptions): Promise<string[]>;
}
