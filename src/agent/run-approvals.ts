import { NightshiftError } from '../errors.js';
import type { ApprovalWaitInfo } from '../storage/contracts/index.js';

/** A tool call about to run, as the approvals gate sees it. */
export interface ToolCallRequest {
  tool_name: string;
  tool_call_id: string;
  /** The arguments the model asked for. */
  args: unknown;
}

/** What the gate says of a call: run it (perhaps with a person's arguments), refuse it, or wait. */
export type ApprovalVerdict =
  | {
      kind: 'run';
      args: unknown;
      /** The decision it runs under; absent when no rule asked for one. */
      approval?: {
        approval_id: string;
        state: 'approved' | 'expired';
        decided_by: string | null;
        edited: boolean;
      };
    }
  | {
      kind: 'deny';
      approval_id: string;
      state: 'denied' | 'expired';
      decided_by: string | null;
      note: string | null;
    }
  | { kind: 'wait'; approval: ApprovalWaitInfo };

/**
 * The tool calls of a run a person decides on (the service builds it from the agent's
 * `agent_config.approvals` and the store): asked before each call; a call a rule matches waits
 * for its decision, and the run with it.
 */
export interface RunApprovals {
  check(call: ToolCallRequest): Promise<ApprovalVerdict>;
}

/** The error a run is stopped with to wait for a person. */
export function approvalStopError(approval: ApprovalWaitInfo): NightshiftError {
  return new NightshiftError(
    'approval_required',
    `tool ${approval.tool_name} waits for a person to approve or deny it (approval ${approval.approval_id}, until ${approval.expires_at})`,
    { details: { approval } },
  );
}

/** The approval an {@link approvalStopError} waits for, when `error` is one. */
export function approvalOfStop(error: unknown): ApprovalWaitInfo | undefined {
  if (!NightshiftError.isInstance(error) || error.code !== 'approval_required') return undefined;
  return error.details.approval as ApprovalWaitInfo | undefined;
}

/** What the model gets for a call a person (or the timeout) refused: a result, so the run goes on. */
export function deniedResult(verdict: Extract<ApprovalVerdict, { kind: 'deny' }>): {
  error: 'denied';
  note: string | null;
  decided_by: string | null;
} {
  return {
    error: 'denied',
    note: verdict.state === 'expired' ? (verdict.note ?? 'nobody decided in time') : verdict.note,
    decided_by: verdict.decided_by,
  };
}
