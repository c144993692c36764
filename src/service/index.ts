export type { AgentStatus } from './agent-status.js';
export {
  TAG_ACTION_RESULTS,
  TAG_ACTIONS,
  type ListAgentsOptions,
  type TagAction,
  type TagActionOutcome,
  type TagActionResult,
  type TagSelection,
} from './agent-tags.js';
export { pauseInputSchema, type PauseOptions } from './pause-note.js';
export { TIMED_RESUME_REASON } from './timed-pauses.js';
export type {
  BudgetFigures,
  BudgetGrantInput,
  BudgetGrantRecord,
  BudgetView,
} from './budgets/budget-grants.js';
export type { FleetBudgets } from './budgets/budget-lines.js';
export {
  approvalDecisionFieldsSchema,
  approvalDecisionInputSchema,
  type ApprovalDecisionInput,
} from './approvals/approval-decisions.js';
export { budgetDenialInputSchema, type BudgetDenialInput } from './budgets/budget-denial.js';
export { BACKFILL_MAX_TICKS, type BackfillOptions } from './backfill.js';
export {
  BACKFILL_TICK_STATUSES,
  type BackfillBudget,
  type BackfillEstimate,
  type BackfillPlan,
  type BackfillRunEstimate,
  type BackfillTick,
  type BackfillTickStatus,
} from './backfill-plan.js';
export { BackgroundAgentService } from './background-agent-service.js';
export {
  diffReplay,
  REPLAY_DIFFERENCES,
  type ModelCallSummary,
  type ReplayDiff,
  type ReplayDiffRow,
  type ReplayDivergence,
  type StepSummary,
  type ToolCallSummary,
} from './replay/replay-diff.js';
export {
  RETENTION_KINDS,
  type PruneReport,
  type RetentionCounts,
} from './retention/retention-counts.js';
export type { RetentionStats } from './retention/retention-sweeper.js';
export type {
  BackgroundAgentServiceOptions,
  RunNowOptions,
  ServiceLogger,
  ToolSettings,
} from './service-options.js';
export { LocalScheduler } from './local-scheduler.js';
export { MAX_PARTITIONS, ownsAgent, partitionOf, type Partition } from './partition.js';
export {
  createBullmqScheduler,
  createRedisModelRequestLimiter,
  type BullmqSchedulerOptions,
  type RedisModelRequestLimiterOptions,
} from './bullmq/index.js';
export {
  createProcessModelRequestLimiter,
  type ModelRequestLimiter,
  type ModelRequestLimits,
} from './model-request-limiter.js';
export type { SchedulerSettings } from './scheduler-settings.js';
export type {
  DeliveryOutcome,
  ManualRunRequest,
  SchedulerContext,
  SchedulerTarget,
  TickScheduler,
  TickSchedulerFactory,
  WorkerInfo,
} from './tick-scheduler.js';
export type { StreamEventsOptions } from './event-stream.js';
export { manualRunId, scheduledRunId } from './run-ids.js';
