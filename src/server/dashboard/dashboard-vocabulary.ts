import { isErrorStatus, isTerminal, type EventType } from '../../storage/index.js';
import type { ReportedAgentState, RunStatus } from '../../storage/contracts/vocabulary.js';
import type { DashboardVocabulary } from './dashboard-vocabulary-shape.js';

/** How the dashboard names each run status; a status without a label fails to compile. */
const RUN_STATUS_LABELS: Record<RunStatus, string> = {
  pending: 'pending',
  running: 'running',
  awaiting_budget: 'awaiting budget',
  awaiting_approval: 'awaiting approval',
  completed: 'completed',
  failed: 'failed',
  timed_out: 'timed out',
  budget_exceeded: 'budget exceeded',
  cancelled: 'cancelled',
  skipped: 'skipped',
  interrupted: 'interrupted',
};

/** How the dashboard names each agent state, in the order its lists show them. */
export const AGENT_STATE_LABELS: Record<ReportedAgentState, string> = {
  active: 'active',
  paused: 'paused',
  stopped: 'stopped',
  created: 'created',
  invalid: 'invalid',
};

/** Whether each event type reports something that went wrong (the log marks those). */
const BAD_EVENT_TYPES: Record<EventType, boolean> = {
  user_message: false,
  agent_message: false,
  tool_call_started: false,
  tool_call_result: false,
  tool_call_error: true,
  final_answer: false,
  run_warning: true,
  guardrail_triggered: true,
  background_task_started: false,
  background_task_resumed: false,
  background_task_completed: false,
  background_task_error: true,
  background_task_skipped: false,
  background_task_waiting: true,
  approval_requested: true,
  approval_decided: false,
  budget_exhausted: true,
  budget_granted: false,
  notification_sent: false,
  notification_failed: true,
  background_task_missed: false,
  background_agent_status: false,
};

const mapValues = <Key extends string, From, To>(
  record: Record<Key, From>,
  convert: (value: From, key: Key) => To,
): Record<Key, To> =>
  Object.fromEntries(
    Object.entries<From>(record).map(([key, value]) => [key, convert(value, key as Key)]),
  ) as Record<Key, To>;

/** The vocabulary every page carries, built once. */
export const DASHBOARD_VOCABULARY: DashboardVocabulary = {
  runStatuses: mapValues(RUN_STATUS_LABELS, (label, status) => ({
    label,
    failed: isErrorStatus(status),
    terminal: isTerminal(status),
  })),
  agentStates: mapValues(AGENT_STATE_LABELS, (label) => ({ label })),
  eventTypes: mapValues(BAD_EVENT_TYPES, (bad) => ({ bad })),
};
