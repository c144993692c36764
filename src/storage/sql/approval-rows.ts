import { approvalJson } from '../approval-rules.js';
import type {
  ApprovalRecord,
  ApprovalState,
  ApprovalTimeoutAction,
} from '../contracts/approval-store.js';
import type { JsonColumnReader } from './row-mapping.js';

/**
 * The columns of `approvals` (schema version 5), in the order statements list them. Both JSON
 * columns are NOT NULL: a JSON null is stored as JSON (`null`), so it reads back as null.
 */
export const APPROVAL_COLUMNS = [
  'approval_id',
  'run_id',
  'agent_id',
  'tool_name',
  'tool_call_id',
  'arguments',
  'state',
  'requested_at',
  'expires_at',
  'on_timeout',
  'decided_by',
  'decided_at',
  'note',
  'edited_arguments',
] as const;

/** The columns a decision writes, in the order statements list them. */
export const APPROVAL_DECISION_COLUMNS = [
  'state',
  'decided_by',
  'decided_at',
  'note',
  'edited_arguments',
] as const;

/** The JSON columns, which statements pass as text. */
export const APPROVAL_JSON_COLUMNS: readonly string[] = ['arguments', 'edited_arguments'];

/** A row of `approvals`, JSON columns as the driver gives them. */
export interface ApprovalRow {
  approval_id: string;
  run_id: string;
  agent_id: string;
  tool_name: string;
  tool_call_id: string;
  arguments: unknown;
  state: string;
  requested_at: string;
  expires_at: string;
  on_timeout: string;
  decided_by: string | null;
  decided_at: string | null;
  note: string | null;
  edited_arguments: unknown;
}

/** The row an approval is written as, JSON columns as text. */
export function approvalToRow(approval: ApprovalRecord): ApprovalRow {
  return {
    approval_id: approval.approval_id,
    run_id: approval.run_id,
    agent_id: approval.agent_id,
    tool_name: approval.tool_name,
    tool_call_id: approval.tool_call_id,
    arguments: approvalJson(approval.arguments, 'approval.arguments'),
    state: approval.state,
    requested_at: approval.requested_at,
    expires_at: approval.expires_at,
    on_timeout: approval.on_timeout,
    decided_by: approval.decided_by,
    decided_at: approval.decided_at,
    note: approval.note,
    edited_arguments: approvalJson(approval.edited_arguments, 'approval.edited_arguments'),
  };
}

/** The approval a row holds. */
export function approvalFromRow(row: ApprovalRow, readJson: JsonColumnReader): ApprovalRecord {
  return {
    approval_id: row.approval_id,
    run_id: row.run_id,
    agent_id: row.agent_id,
    tool_name: row.tool_name,
    tool_call_id: row.tool_call_id,
    arguments: readJson(row.arguments),
    state: row.state as ApprovalState,
    requested_at: row.requested_at,
    expires_at: row.expires_at,
    on_timeout: row.on_timeout as ApprovalTimeoutAction,
    decided_by: row.decided_by,
    decided_at: row.decided_at,
    note: row.note,
    edited_arguments: readJson(row.edited_arguments),
  };
}

/**
 * The WHERE clause of a listing and its values, for the filters given: one statement per set
 * of filters, so each is planned on its own index. `parameter` writes the n-th parameter.
 */
export function approvalFilters(
  filters: { state?: string; agent_id?: string; run_id?: string },
  parameter: (index: number) => string,
): { where: string; values: string[] } {
  const conditions: string[] = [];
  const values: string[] = [];
  for (const column of ['state', 'agent_id', 'run_id'] as const) {
    const value = filters[column];
    if (value === undefined) continue;
    values.push(value);
    conditions.push(`${column} = ${parameter(values.length)}`);
  }
  return { where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, values };
}
