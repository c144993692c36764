import { APPROVAL_STATES } from '../../storage/contracts/index.js';
import {
  agentIdQuery,
  bodyErrors,
  errorResponse,
  integerQuery,
  jsonResponse,
  ref,
  standardErrors,
  wrapped,
  type OperationRow,
  type Parameter,
} from './operation-parts.js';

const approvalIdParameter: Parameter = {
  name: 'approval_id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
};

const notFound = { '404': errorResponse('`approval_not_found`.') };

/** A person in the loop: the tool calls that wait for one, and their decisions. */
export const APPROVAL_OPERATIONS: readonly OperationRow[] = [
  {
    method: 'get',
    path: '/api/approvals',
    summary: 'Tool calls waiting for a person, or decided, newest first',
    description:
      'A tool call an approval rule (`agent_config.approvals`) matches waits here; its run waits in `awaiting_approval`, holding no worker slot. Pending approvals past their expiry are expired (their rule’s `on_timeout` applies) before the list is read.',
    tag: 'approvals',
    parameters: [
      { name: 'state', in: 'query', schema: { type: 'string', enum: [...APPROVAL_STATES] } },
      agentIdQuery,
      { name: 'run_id', in: 'query', schema: { type: 'string' } },
      integerQuery('limit', { min: 1, max: 1000, fallback: 100 }),
    ],
    responses: {
      '200': jsonResponse(
        'The approvals.',
        wrapped('approvals', { type: 'array', items: ref('Approval') }),
      ),
      '400': errorResponse('`config_invalid`: a bad query parameter, named in `fields`.'),
      ...standardErrors,
    },
  },
  {
    method: 'get',
    path: '/api/approvals/{approval_id}',
    summary: 'One approval',
    tag: 'approvals',
    parameters: [approvalIdParameter],
    responses: {
      '200': jsonResponse('The approval.', ref('Approval')),
      ...notFound,
      ...standardErrors,
    },
  },
  ...(['approve', 'deny'] as const).map((decision): OperationRow => ({
    method: 'post',
    path: `/api/approvals/{approval_id}/${decision}`,
    summary:
      decision === 'approve'
        ? 'Approve a waiting tool call: it runs (with `arguments` when given), and its run goes on'
        : 'Deny a waiting tool call: the model is told `{ error: "denied", note }`, and its run goes on',
    description:
      'Applied once, from any process sharing the store: of two decisions made at once, the second gets 409. The run goes on from its journal in whichever process picks it up.',
    tag: 'approvals',
    parameters: [approvalIdParameter],
    body: { schema: 'ApprovalDecisionBody', required: true },
    responses: {
      '200': jsonResponse('The approval as decided.', ref('Approval')),
      '400': errorResponse(
        '`config_invalid`: a bad, missing or unknown body field, named in `fields` (`by`, `note`, `arguments`).',
      ),
      '409': errorResponse(
        '`invalid_state`: the approval is decided already (by a person, its timeout, or because its run ended).',
      ),
      ...notFound,
      ...bodyErrors,
      ...standardErrors,
    },
  })),
];
