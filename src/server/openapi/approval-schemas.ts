import { z } from 'zod';
import { approvalDecisionFieldsSchema } from '../../service/index.js';
import { APPROVAL_STATES, type ApprovalRecord } from '../../storage/contracts/index.js';
import { describing } from './describing.js';
import { instant } from './run-schemas.js';

/** One tool call waiting for a person, or decided. */
export const approvalRecordSchema = describing<ApprovalRecord>()(
  z.object({
    approval_id: z
      .string()
      .describe('`<run_id>:<tool_call_id>`: one approval per tool call of a run.'),
    run_id: z.string(),
    agent_id: z.string(),
    tool_name: z.string(),
    tool_call_id: z.string(),
    arguments: z.unknown().describe('The arguments the model asked for (redacted).'),
    state: z.enum(APPROVAL_STATES),
    requested_at: instant,
    expires_at: instant.describe('When it expires if nobody decides (its rule’s `timeout`).'),
    on_timeout: z.enum(['deny', 'approve']).describe('What expiry does.'),
    decided_by: z
      .string()
      .nullable()
      .describe(
        'Who decided: a person, `timeout` for an expired one, `nightshift` when its run ended first.',
      ),
    decided_at: instant.nullable(),
    note: z
      .string()
      .nullable()
      .describe('Why, as the person said (given to the model with a denial).'),
    edited_arguments: z
      .unknown()
      .describe(
        'Arguments the call was approved with instead of the model’s; null when unchanged.',
      ),
  }),
);

/** `POST /api/approvals/{approval_id}/approve|deny`: the path says which; the body who and why. */
export const approvalDecisionBodySchema = approvalDecisionFieldsSchema
  .omit({ decision: true })
  .describe(
    'Who decides and why; an approval may give `arguments` to run the call with instead of the model’s (recorded as edited).',
  );
