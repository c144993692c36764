import type {
  ApprovalRecord,
  ApprovalState,
  EventPayloads,
} from '../../storage/contracts/index.js';

/** What `approval_decided` says of a decided approval. */
export function decisionPayload(record: ApprovalRecord): EventPayloads['approval_decided'] {
  return {
    approval_id: record.approval_id,
    tool_name: record.tool_name,
    state: record.state as Exclude<ApprovalState, 'pending'>,
    decided_by: record.decided_by ?? 'unknown',
    note: record.note,
    edited: record.edited_arguments !== null && record.edited_arguments !== undefined,
  };
}
