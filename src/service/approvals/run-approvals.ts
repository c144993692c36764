import type { ApprovalVerdict, RunApprovals } from '../../agent/index.js';
import { approvalRuleFor, approvalRulesOf } from '../../config/approval-rules.js';
import type { AgentDefinition } from '../../config/agent-definition.js';
import type {
  ApprovalRecord,
  ApprovalStore,
  EventPayloads,
} from '../../storage/contracts/index.js';

/** Where a run's approval requests are announced (`approval_requested`). */
export type ApprovalRequestSink = (
  agentId: string,
  runId: string,
  payload: EventPayloads['approval_requested'],
) => Promise<void>;

/**
 * The id of the approval of one tool call of a run: `<run_id>:<tool_call_id>`, the call id's
 * characters outside `[A-Za-z0-9_.-]` made `_`, so the id fits in a URL path as it is.
 */
export function approvalIdOf(runId: string, toolCallId: string): string {
  return `${runId}:${toolCallId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/**
 * The gate of one run's tool calls: none when the agent has no approval rules. A call a rule
 * matches is recorded as a pending approval (once: the id is the run's and the call's) and
 * waits; once decided, the call runs (with the person's arguments when they gave some) or is
 * refused; an expired one does what its rule's `on_timeout` says.
 */
export function runApprovalsFor(
  definition: AgentDefinition,
  runId: string,
  store: ApprovalStore,
  now: () => Date,
  announce: ApprovalRequestSink,
): RunApprovals | undefined {
  const rules = approvalRulesOf(definition);
  if (rules.length === 0) return undefined;
  return {
    async check(call) {
      const approvalId = approvalIdOf(runId, call.tool_call_id);
      const recorded = await store.get(approvalId);
      if (recorded) return verdictOf(recorded, call.args);
      const rule = approvalRuleFor(rules, call.tool_name, call.args);
      if (!rule) return { kind: 'run', args: call.args };
      const at = now();
      const request: ApprovalRecord = {
        approval_id: approvalId,
        run_id: runId,
        agent_id: definition.agent_id,
        tool_name: call.tool_name,
        tool_call_id: call.tool_call_id,
        arguments: call.args,
        state: 'pending',
        requested_at: at.toISOString(),
        expires_at: new Date(at.getTime() + rule.timeout * 1000).toISOString(),
        on_timeout: rule.on_timeout,
        decided_by: null,
        decided_at: null,
        note: null,
        edited_arguments: null,
      };
      if (await store.request(request)) {
        const stored = (await store.get(approvalId)) ?? request;
        await announce(definition.agent_id, runId, {
          approval_id: approvalId,
          tool_name: call.tool_name,
          tool_call_id: call.tool_call_id,
          arguments: stored.arguments,
          expires_at: request.expires_at,
        });
        return verdictOf(stored, call.args);
      }
      // Requested already by an attempt before this one (its process died in between).
      return verdictOf((await store.get(approvalId)) ?? request, call.args);
    },
  };
}

/** What a recorded approval means for its call now. */
function verdictOf(record: ApprovalRecord, args: unknown): ApprovalVerdict {
  switch (record.state) {
    case 'pending':
      return {
        kind: 'wait',
        approval: {
          approval_id: record.approval_id,
          tool_name: record.tool_name,
          expires_at: record.expires_at,
        },
      };
    case 'approved': {
      const edited = record.edited_arguments !== null && record.edited_arguments !== undefined;
      return {
        kind: 'run',
        args: edited ? record.edited_arguments : args,
        approval: {
          approval_id: record.approval_id,
          state: 'approved',
          decided_by: record.decided_by,
          edited,
        },
      };
    }
    case 'expired':
      if (record.on_timeout === 'approve') {
        return {
          kind: 'run',
          args,
          approval: {
            approval_id: record.approval_id,
            state: 'expired',
            decided_by: record.decided_by,
            edited: false,
          },
        };
      }
      return {
        kind: 'deny',
        approval_id: record.approval_id,
        state: 'expired',
        decided_by: record.decided_by,
        note: record.note,
      };
    case 'denied':
      return {
        kind: 'deny',
        approval_id: record.approval_id,
        state: 'denied',
        decided_by: record.decided_by,
        note: record.note,
      };
  }
}
