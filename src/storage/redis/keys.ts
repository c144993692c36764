import type { ApprovalState } from '../contracts/approval-store.js';
import type { RunStatus } from '../contracts/run-store.js';

/** The prefix of every key when none is given. */
export const DEFAULT_KEY_PREFIX = 'nightshift:';

/**
 * The name of every key the Redis backend writes, all under one prefix. Each kind of key
 * starts with a word of its own, so no id (even one holding `:`) can make two kinds meet.
 */
export interface RedisKeys {
  /** An agent's record (JSON). */
  agent(agentId: string): string;
  /** Every agent id (a sorted set read in byte order). */
  readonly agents: string;
  /** A run's record (JSON). */
  run(runId: string): string;
  /** An agent's runs (a sorted set of run index members). */
  agentRuns(agentId: string): string;
  /** An agent's runs in one status. */
  agentRunsWithStatus(agentId: string, status: RunStatus): string;
  /** Every `pending` or `running` run of every agent. */
  readonly unfinishedRuns: string;
  /** A run's steps (a list of JSON, in the order written). */
  runSteps(runId: string): string;
  /** The step ids a run has recorded (a set, to refuse a step twice). */
  runStepIds(runId: string): string;
  /** A session's messages (a list of JSON). */
  messages(sessionId: string): string;
  /** A lease slot (JSON); it outlives releases so fencing tokens keep growing. */
  lease(key: string): string;
  /** A budget counter (a hash: `spent_<dimension>`, `held_…`, `granted_…`, `resets_at`). */
  budgetCounter(key: string): string;
  /** An open budget hold (JSON); deleted when it is settled. */
  budgetHold(holdId: string): string;
  /** The ids of a run's open budget holds (a set). */
  runBudgetHolds(runId: string): string;
  /** One budget grant (JSON), kept forever. */
  budgetGrant(grantId: string): string;
  /** The ledger of budget grants: their ids, scored by `granted_at` (ms); kept forever. */
  readonly budgetGrants: string;
  /**
   * The budget grants still to expire: their ids, scored by `expires_at` (ms). A grant leaves it
   * when it is expired; a grant without `expires_at` is never in it.
   */
  readonly budgetGrantExpiries: string;
  /** One approval (JSON). */
  approval(approvalId: string): string;
  /** The approvals in one state (a sorted set of approval index members). */
  approvalsWithState(state: ApprovalState): string;
  /** An agent's approvals (a sorted set of approval index members). */
  agentApprovals(agentId: string): string;
  /** A run's approvals (a sorted set of approval index members). */
  runApprovals(runId: string): string;
  /** The stream of every agent's events. */
  readonly fleetEvents: string;
  /** The stream of one agent's events, with the same ids as in the fleet stream. */
  agentEvents(agentId: string): string;
  /** The outcome of one scripted write, kept briefly so a resend of it is not applied twice. */
  receipt(writeId: string): string;
}

/** The keys of the Redis backend under `prefix`. */
export function redisKeys(prefix: string = DEFAULT_KEY_PREFIX): RedisKeys {
  return {
    agent: (agentId) => `${prefix}agent:${agentId}`,
    agents: `${prefix}agents`,
    run: (runId) => `${prefix}run:${runId}`,
    agentRuns: (agentId) => `${prefix}agent-runs:${agentId}`,
    agentRunsWithStatus: (agentId, status) => `${prefix}agent-runs-by-status:${status}:${agentId}`,
    unfinishedRuns: `${prefix}unfinished-runs`,
    runSteps: (runId) => `${prefix}run-steps:${runId}`,
    runStepIds: (runId) => `${prefix}run-step-ids:${runId}`,
    messages: (sessionId) => `${prefix}messages:${sessionId}`,
    lease: (key) => `${prefix}lease:${key}`,
    budgetCounter: (key) => `${prefix}budget-counter:${key}`,
    budgetHold: (holdId) => `${prefix}budget-hold:${holdId}`,
    runBudgetHolds: (runId) => `${prefix}run-budget-holds:${runId}`,
    budgetGrant: (grantId) => `${prefix}budget-grant:${grantId}`,
    budgetGrants: `${prefix}budget-grants`,
    budgetGrantExpiries: `${prefix}budget-grant-expiries`,
    approval: (approvalId) => `${prefix}approval:${approvalId}`,
    approvalsWithState: (state) => `${prefix}approvals-by-state:${state}`,
    agentApprovals: (agentId) => `${prefix}agent-approvals:${agentId}`,
    runApprovals: (runId) => `${prefix}run-approvals:${runId}`,
    fleetEvents: `${prefix}events`,
    agentEvents: (agentId) => `${prefix}events:${agentId}`,
    receipt: (writeId) => `${prefix}receipt:${writeId}`,
  };
}
