import { z } from 'zod';
import { describeFields, issuesToFieldErrors } from '../../config/format-issues.js';
import { NightshiftError } from '../../errors.js';
import {
  APPROVAL_STATES,
  type ApprovalRecord,
  type ListApprovalsOptions,
  type RunRecord,
} from '../../storage/contracts/index.js';
import type { ServiceContext } from '../service-context.js';
import { decisionPayload } from './decision-event.js';

/** The fields of a person's decision on a tool call waiting for them. */
export const approvalDecisionFieldsSchema = z.strictObject({
  decision: z.enum(['approve', 'deny'], { error: 'must be approve or deny' }),
  by: z
    .string({ error: 'required: who decides' })
    .trim()
    .min(1, { error: 'required: who decides' })
    .max(200, { error: 'must be at most 200 characters' }),
  note: z.string().trim().max(2_000, { error: 'must be at most 2000 characters' }).optional(),
  /** Approve the call with these arguments instead of the model's (recorded as edited). */
  arguments: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
});

/** What a person decides on a tool call waiting for them. */
export const approvalDecisionInputSchema = approvalDecisionFieldsSchema.refine(
  (input) => input.decision === 'approve' || input.arguments === undefined,
  {
    path: ['arguments'],
    error: 'only an approval may change the arguments',
  },
);

/** A person's decision on an approval. */
export type ApprovalDecisionInput = z.input<typeof approvalDecisionInputSchema>;

/** Filters of `listApprovals`, as the service checks them. */
const listApprovalsSchema = z.strictObject({
  state: z
    .enum(APPROVAL_STATES, { error: `must be one of ${APPROVAL_STATES.join(', ')}` })
    .optional(),
  agent_id: z.string().min(1).optional(),
  run_id: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(1_000, { error: 'must be at most 1000' }).optional(),
});

function invalid(what: string, schema: z.ZodType, issues: z.core.$ZodIssue[]): NightshiftError {
  const fields = issuesToFieldErrors(issues, [], schema);
  return new NightshiftError('config_invalid', `invalid ${what}: ${describeFields(fields)}`, {
    fields,
  });
}

/** Approvals as stored, newest first, filtered; pending ones past their expiry are expired first. */
export async function listApprovals(
  context: ServiceContext,
  options: ListApprovalsOptions = {},
): Promise<ApprovalRecord[]> {
  const parsed = listApprovalsSchema.safeParse(options);
  if (!parsed.success) throw invalid('approval filter', listApprovalsSchema, parsed.error.issues);
  const { store } = await context.connect();
  await expireDue(context, await store.approvals.list({ state: 'pending', limit: 1_000 }));
  return context.redactor.redact(await store.approvals.list(parsed.data));
}

/** One approval; `approval_not_found` when there is none. */
export async function getApproval(
  context: ServiceContext,
  approvalId: string,
): Promise<ApprovalRecord> {
  const { store } = await context.connect();
  const record = await store.approvals.get(approvalId);
  if (!record) throw notFound(approvalId);
  return context.redactor.redact(record);
}

function notFound(approvalId: string): NightshiftError {
  return new NightshiftError('approval_not_found', `no approval ${approvalId}`);
}

/**
 * A person decides a pending approval, from any process sharing the store: one compare-and-set
 * on the record, so of two decisions at once exactly one applies, and the other gets
 * `invalid_state` (409) saying who decided first. One past its expiry is expired instead (its
 * rule's `on_timeout` applies) and the decision is refused. The waiting run is woken — here when
 * this process runs agents, elsewhere by the `approval_decided` event.
 */
export async function decideApproval(
  context: ServiceContext,
  approvalId: string,
  input: unknown,
): Promise<ApprovalRecord> {
  const parsed = approvalDecisionInputSchema.safeParse(input);
  if (!parsed.success)
    throw invalid('approval decision', approvalDecisionInputSchema, parsed.error.issues);
  const { store } = await context.connect();
  const record = await store.approvals.get(approvalId);
  if (!record) throw notFound(approvalId);
  if (record.state === 'pending' && Date.parse(record.expires_at) <= context.now().getTime()) {
    await expireDue(context, [record]);
  }
  const { decision, by, note, arguments: edited } = parsed.data;
  const decided = await store.approvals.decide(approvalId, {
    state: decision === 'approve' ? 'approved' : 'denied',
    decided_by: by,
    decided_at: context.now().toISOString(),
    note: note ?? null,
    edited_arguments: edited ?? null,
  });
  if (!decided) throw alreadyDecided((await store.approvals.get(approvalId)) ?? record);
  await announceDecision(context, decided);
  return context.redactor.redact(decided);
}

function alreadyDecided(record: ApprovalRecord): NightshiftError {
  const by = record.decided_by ? ` by ${record.decided_by}` : '';
  const at = record.decided_at ? ` at ${record.decided_at}` : '';
  return new NightshiftError(
    'invalid_state',
    `approval ${record.approval_id} is ${record.state} already${by}${at}`,
  );
}

async function announceDecision(context: ServiceContext, record: ApprovalRecord): Promise<void> {
  const { publisher } = await context.connect();
  await publisher.publish(
    'approval_decided',
    record.agent_id,
    record.run_id,
    decisionPayload(record),
  );
}

/** Expires the pending approvals past their `expires_at` (once each: a compare-and-set). */
async function expireDue(
  context: ServiceContext,
  pending: readonly ApprovalRecord[],
): Promise<void> {
  const { store } = await context.connect();
  const now = context.now();
  for (const record of pending) {
    if (record.state !== 'pending' || Date.parse(record.expires_at) > now.getTime()) continue;
    const expired = await store.approvals.decide(record.approval_id, {
      state: 'expired',
      decided_by: 'timeout',
      decided_at: now.toISOString(),
      note: `nobody decided by ${record.expires_at}; on_timeout: ${record.on_timeout}`,
      edited_arguments: null,
    });
    if (expired) await announceDecision(context, expired);
  }
}

/**
 * Whether a run waiting for approvals may go on: none of its approvals is pending any more
 * (those past their expiry are expired here).
 */
export async function approvalsSettled(context: ServiceContext, run: RunRecord): Promise<boolean> {
  const { store } = await context.connect();
  const pending = await store.approvals.list({ run_id: run.run_id, state: 'pending' });
  await expireDue(context, pending);
  const now = context.now().getTime();
  return pending.every((record) => Date.parse(record.expires_at) <= now);
}
