import {
  APPROVAL_STATES,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalState,
  type ListApprovalsOptions,
} from './contracts/approval-store.js';

/** How many approvals {@link ApprovalStore.list} returns when not told. */
export const DEFAULT_APPROVAL_LIST_LIMIT = 100;

/** The states a decision may set: every state but `pending`. */
const DECIDED_STATES: readonly ApprovalState[] = APPROVAL_STATES.filter(
  (state) => state !== 'pending',
);
const TIMEOUT_ACTIONS: readonly string[] = ['deny', 'approve'];

/** A listing's filters and limit, checked and defaulted. */
export interface ApprovalListing {
  state: ApprovalState | undefined;
  agent_id: string | undefined;
  run_id: string | undefined;
  limit: number;
}

function checkId(value: unknown, field: string): void {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`${field}: must be a non-empty string`);
}

function checkDate(value: unknown, field: string): void {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
    throw new RangeError(`${field}: not a date (got ${JSON.stringify(value)})`);
}

function checkOptionalText(value: unknown, field: string): void {
  if (value !== null && typeof value !== 'string')
    throw new TypeError(`${field}: must be a string or null`);
}

function checkState(value: unknown, field: string, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value))
    throw new RangeError(
      `${field}: must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`,
    );
}

/**
 * `value` as JSON text, the form every backend stores a JSON field in; a value JSON cannot
 * hold (undefined, a function) is a `TypeError` naming the field.
 */
export function approvalJson(value: unknown, field: string): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`${field}: not a JSON value`);
  return text;
}

/**
 * The checks of {@link ApprovalStore.request}'s argument, which every store runs before writing
 * anything: a `TypeError` or `RangeError` naming the field (`approval.run_id`). `requested_at`
 * must be written as `Date.toISOString` writes it, since listings order on its text.
 */
export function checkApprovalRequest(approval: ApprovalRecord): void {
  if (typeof approval !== 'object' || approval === null)
    throw new TypeError('approval: not an object');
  for (const field of ['approval_id', 'run_id', 'agent_id', 'tool_name', 'tool_call_id'] as const)
    checkId(approval[field], `approval.${field}`);
  checkState(approval.state, 'approval.state', APPROVAL_STATES);
  checkDate(approval.requested_at, 'approval.requested_at');
  if (new Date(approval.requested_at).toISOString() !== approval.requested_at)
    throw new RangeError(
      `approval.requested_at: must be an ISO 8601 UTC time with milliseconds, as Date.toISOString writes it (got ${JSON.stringify(approval.requested_at)})`,
    );
  checkDate(approval.expires_at, 'approval.expires_at');
  checkState(approval.on_timeout, 'approval.on_timeout', TIMEOUT_ACTIONS);
  checkDecisionFields(approval, 'approval');
  approvalJson(approval.arguments, 'approval.arguments');
}

function checkDecisionFields(decision: ApprovalDecision, what: string): void {
  checkOptionalText(decision.decided_by, `${what}.decided_by`);
  if (decision.decided_at !== null) checkDate(decision.decided_at, `${what}.decided_at`);
  checkOptionalText(decision.note, `${what}.note`);
  approvalJson(decision.edited_arguments, `${what}.edited_arguments`);
}

/**
 * The checks of {@link ApprovalStore.decide}'s arguments, run before anything is written: the
 * id, and a decision that leaves `pending` (`approved`, `denied` or `expired`).
 */
export function checkApprovalDecision(approvalId: string, decision: ApprovalDecision): void {
  checkId(approvalId, 'approvalId');
  if (typeof decision !== 'object' || decision === null)
    throw new TypeError('decision: not an object');
  checkState(decision.state, 'decision.state', DECIDED_STATES);
  checkDecisionFields(decision, 'decision');
}

/** {@link ApprovalStore.list}'s options, checked (a `TypeError` or `RangeError` naming the field) and defaulted. */
export function approvalListing(options: ListApprovalsOptions = {}): ApprovalListing {
  const { state, agent_id, run_id, limit = DEFAULT_APPROVAL_LIST_LIMIT } = options;
  if (state !== undefined) checkState(state, 'state', APPROVAL_STATES);
  if (agent_id !== undefined) checkId(agent_id, 'agent_id');
  if (run_id !== undefined) checkId(run_id, 'run_id');
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`limit: must be a whole number at least 0 (got ${limit})`);
  return { state, agent_id, run_id, limit };
}

/** True when `approval` passes every filter of `listing`. */
export function matchesListing(approval: ApprovalRecord, listing: ApprovalListing): boolean {
  return (
    (listing.state === undefined || approval.state === listing.state) &&
    (listing.agent_id === undefined || approval.agent_id === listing.agent_id) &&
    (listing.run_id === undefined || approval.run_id === listing.run_id)
  );
}

/**
 * The order of {@link ApprovalStore.list}: newest `requested_at` first, then by `approval_id`
 * descending, both by code unit (the order of SQLite's BINARY collation and Postgres' "C").
 */
export function compareApprovals(a: ApprovalRecord, b: ApprovalRecord): number {
  if (a.requested_at !== b.requested_at) return a.requested_at < b.requested_at ? 1 : -1;
  if (a.approval_id === b.approval_id) return 0;
  return a.approval_id < b.approval_id ? 1 : -1;
}

/** Exactly the fields of an {@link ApprovalRecord}, in contract order: what a store keeps of one. */
export function approvalRecord(approval: ApprovalRecord): ApprovalRecord {
  return {
    approval_id: approval.approval_id,
    run_id: approval.run_id,
    agent_id: approval.agent_id,
    tool_name: approval.tool_name,
    tool_call_id: approval.tool_call_id,
    arguments: approval.arguments,
    state: approval.state,
    requested_at: approval.requested_at,
    expires_at: approval.expires_at,
    on_timeout: approval.on_timeout,
    decided_by: approval.decided_by,
    decided_at: approval.decided_at,
    note: approval.note,
    edited_arguments: approval.edited_arguments,
  };
}

/** The record once `decision` is applied: the decision's fields replace the record's. */
export function decidedApproval(
  approval: ApprovalRecord,
  decision: ApprovalDecision,
): ApprovalRecord {
  return {
    ...approval,
    state: decision.state,
    decided_by: decision.decided_by,
    decided_at: decision.decided_at,
    note: decision.note,
    edited_arguments: decision.edited_arguments,
  };
}
