import type { BudgetErrorCode } from '../errors.js';
import type { ErrorInfo, Usage } from '../storage/contracts/index.js';

/**
 * How one run of the runtime ended. Never `completed` with an error inside (promise 5).
 * `awaiting_approval`: it stopped at a tool call a person must decide on (not an end: the
 * service suspends the run until the decision).
 */
export type AgentRunStatus =
  'completed' | 'failed' | 'timed_out' | 'budget_exceeded' | 'cancelled' | 'awaiting_approval';

/** Codes a run's error may carry. Limits use their own names. */
export type AgentErrorCode =
  | 'max_steps'
  | 'request_limit'
  | 'total_tokens_limit'
  | 'timeout'
  | 'cancelled'
  | 'model_error'
  | 'no_answer'
  | 'output_invalid'
  | 'storage_error'
  | 'run_error'
  | 'approval_required'
  | 'guardrail'
  | 'replay_diverged'
  | BudgetErrorCode;

/** The typed result of one run of one agent. */
export interface AgentRunResult {
  status: AgentRunStatus;
  /** The final answer, for completed runs only. */
  output: string | null;
  /**
   * The final answer parsed, for a completed run of an agent with `task_config.output_schema`
   * (valid against it); absent otherwise.
   */
  output_json?: unknown;
  error: (ErrorInfo & { code: AgentErrorCode }) | null;
  /** This run's usage (model requests and tokens), never process-wide. */
  usage: Usage;
  /** Model calls made. */
  steps: number;
  tool_calls: number;
  /** True once a tool call has started. */
  tools_started: boolean;
  /** True once a tool that is not idempotent has started: it may have taken effect, so a retry is not safe. */
  side_effects: boolean;
}
