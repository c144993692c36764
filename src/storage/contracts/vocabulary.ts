/**
 * The words Nightshift records and reports, each listed once: the types are derived from these
 * lists, and so are the HTTP API's query parsing, its OpenAPI document, the CLI's choices and
 * the dashboard's labels. Adding a word here is adding it everywhere.
 */

/**
 * Every run status, in the order a run moves through them; `pending`, `running` and the waiting
 * statuses are not terminal.
 */
export const RUN_STATUSES = [
  'pending',
  'running',
  // Waiting for a budget (`budget_config.on_exhausted: wait`): a grant or the window's reset
  // wakes it, and it goes on from its journal. It holds no lease, no worker slot, no memory.
  'awaiting_budget',
  // Waiting for a person to approve or deny a tool call (`agent_config.approvals`); the decision
  // wakes it, from any process, and it goes on from its journal.
  'awaiting_approval',
  'completed',
  'failed',
  'timed_out',
  'budget_exceeded',
  'cancelled',
  'skipped',
  'interrupted',
] as const;

/** Where a run is in its life. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses of a run that stopped to wait for something outside it, in no process's hands. */
export const WAITING_STATUSES = [
  'awaiting_budget',
  'awaiting_approval',
] as const satisfies readonly RunStatus[];

/** A status of {@link WAITING_STATUSES}. */
export type WaitingStatus = (typeof WAITING_STATUSES)[number];

/** Statuses of a run that has not ended: queued, running, or waiting. */
export const UNFINISHED_STATUSES: readonly RunStatus[] = [
  'pending',
  'running',
  ...WAITING_STATUSES,
];

/** Statuses a run can end in (DESIGN promise 2): every status but the unfinished ones. */
export const TERMINAL_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter(
  (status) => !UNFINISHED_STATUSES.includes(status),
);

/** The lifecycle states an agent is stored in. */
export const AGENT_STATES = ['created', 'active', 'paused', 'stopped'] as const;

/** Lifecycle state of an agent. */
export type AgentState = (typeof AGENT_STATES)[number];

/** The states an agent's status reports: the stored ones, and `invalid` for a record that cannot run. */
export const REPORTED_AGENT_STATES = [...AGENT_STATES, 'invalid'] as const;

/** The state an agent's status reports. */
export type ReportedAgentState = (typeof REPORTED_AGENT_STATES)[number];

/**
 * What can start a run: its schedule, a person (`runNow`), or a backfill of a past tick (its
 * `scheduled_at` is the tick; it does not count as the schedule's progress, `last_scheduled_at`),
 * or a replay of an earlier run (`replayRun`: `replay_of` names it).
 */
export const RUN_TRIGGERS = ['schedule', 'manual', 'backfill', 'replay'] as const;

/** What started a run. */
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** Every event type, in the order a run usually emits them (each has a payload in `EventPayloads`). */
export const EVENT_TYPES = [
  'background_task_started',
  'background_task_resumed',
  'user_message',
  'agent_message',
  'tool_call_started',
  'tool_call_result',
  'tool_call_error',
  'final_answer',
  'run_warning',
  'guardrail_triggered',
  'approval_requested',
  'approval_decided',
  'background_task_waiting',
  'background_task_completed',
  'background_task_error',
  'background_task_skipped',
  'background_task_missed',
  'background_agent_status',
  'budget_exhausted',
  'budget_granted',
  'notification_sent',
  'notification_failed',
] as const;

/** How a tool call recorded in a run step ended. */
export const TOOL_OUTCOMES = [
  'success',
  'error',
  'timeout',
  'cancelled',
  // A resumed run found the call started but not finished, and the tool is not idempotent: it
  // was not run again, and the model was told it may or may not have taken effect.
  'unknown_outcome',
] as const;

/** What a run step records: a model call, a tool call, or where a resumed attempt went on from. */
export const STEP_KINDS = ['model_call', 'tool_call', 'resume'] as const;

/** A step is written `started` before it runs and `completed` after. */
export const STEP_STATES = ['started', 'completed'] as const;

/**
 * `Listed` when it names exactly the keys of `Map`: a key of `Map` missing from `Listed`, or a
 * name in `Listed` that is no key of `Map`, fails the type check where it is used.
 */
export type ExactKeys<
  Map extends { [Key in keyof Map]: Key extends Listed ? unknown : never },
  Listed extends keyof Map,
> = Listed;

/** How a recorded tool call ended. */
export type ToolOutcome = (typeof TOOL_OUTCOMES)[number];

/** What a run step records. */
export type StepKind = (typeof STEP_KINDS)[number];
