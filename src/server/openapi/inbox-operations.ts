import { INBOX_LISTED } from '../dashboard/inbox-types.js';
import {
  htmlPage,
  jsonResponse,
  ref,
  standardErrors,
  type OperationRow,
} from './operation-parts.js';

/** The operator inbox: what waits on a person, as JSON and as a dashboard page. */
export const INBOX_OPERATIONS: readonly OperationRow[] = [
  {
    method: 'get',
    path: '/api/inbox',
    summary:
      'Everything that waits on a person: pending approvals, runs waiting for budget, agents auto-paused after failures, and how many',
    description: `Read with bounded work: the pending approvals (those past their expiry are expired first), the waiting runs of the agents that have some, and the agents' statuses; at most ${INBOX_LISTED} of each, the newest. The dashboard's header shows \`counts.total\`, and \`/inbox\` lists them with the buttons that decide them.`,
    tag: 'dashboard',
    responses: {
      '200': jsonResponse('The inbox.', ref('OperatorInbox')),
      ...standardErrors,
    },
  },
  {
    method: 'get',
    path: '/inbox',
    summary:
      'Dashboard: the operator inbox (HTML): approve or deny tool calls, grant budget, resume auto-paused agents',
    tag: 'dashboard',
    public: true,
    responses: { '200': htmlPage },
  },
];
