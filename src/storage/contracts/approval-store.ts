/** Where an approval stands: waiting for a person, or decided (by one, or by its timeout). */
export const APPROVAL_STATES = ['pending', 'approved', 'denied', 'expired'] as const;

/** One of {@link APPROVAL_STATES}. */
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** What an expired approval does: the rule's `on_timeout`. */
export type ApprovalTimeoutAction = 'deny' | 'approve';

/**
 * A tool call that waits for a person before it runs: asked for by a run at the call (its run
 * then waits in `awaiting_approval`), decided once — by a person, or by its timeout.
 */
export interface ApprovalRecord {
  /** `<run_id>:<tool_call_id>` (URL-safe): one approval per tool call of a run. */
  approval_id: string;
  run_id: string;
  agent_id: string;
  tool_name: string;
  tool_call_id: string;
  /** The arguments the model asked for (redacted like every stored value). */
  arguments: unknown;
  state: ApprovalState;
  requested_at: string;
  /** When it expires if nobody decides (ISO 8601). */
  expires_at: string;
  /** What expiry does. */
  on_timeout: ApprovalTimeoutAction;
  /** Who decided (a person's name; `timeout` for an expired one); null while pending. */
  decided_by: string | null;
  decided_at: string | null;
  /** Why, as the person said (given to the model with a denial). */
  note: string | null;
  /** Arguments the person approved the call with instead of the model's; null when unchanged. */
  edited_arguments: unknown;
}

/** The fields a decision sets. */
export type ApprovalDecision = Pick<
  ApprovalRecord,
  'state' | 'decided_by' | 'decided_at' | 'note' | 'edited_arguments'
>;

/** Filters for listing approvals. */
export interface ListApprovalsOptions {
  state?: ApprovalState;
  agent_id?: string;
  run_id?: string;
  /** Newest `requested_at` first; at most this many (default 100). */
  limit?: number;
}

/** Storage of approvals, shared by every process on the store. */
export interface ApprovalStore {
  /** Records a request unless its approval_id exists (atomic insert-if-absent); false when it does. */
  request(approval: ApprovalRecord): Promise<boolean>;
  get(approvalId: string): Promise<ApprovalRecord | undefined>;
  /** Newest `requested_at` first (ties by approval_id). */
  list(options?: ListApprovalsOptions): Promise<ApprovalRecord[]>;
  /**
   * Decides a pending approval: one compare-and-set on its state, so of two decisions made at
   * once exactly one applies. Returns the decided record, or undefined when the approval is
   * absent or no longer pending.
   */
  decide(approvalId: string, decision: ApprovalDecision): Promise<ApprovalRecord | undefined>;
  /** Removes every approval of an agent. */
  deleteByAgent(agentId: string): Promise<void>;
}
