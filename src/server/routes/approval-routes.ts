import { Hono } from 'hono';
import { APPROVAL_STATES, type ApprovalState } from '../../storage/contracts/index.js';
import { invalidField } from '../api-error.js';
import { integerParameter } from '../query-parameters.js';
import { readJsonObject } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * The tool calls that wait for a person: `GET /api/approvals` (`?state=pending&agent_id=…&
 * run_id=…&limit=…`), `GET /api/approvals/:approval_id`, and `POST
 * /api/approvals/:approval_id/approve|deny` with `{ by, note?, arguments? }` (a second decision
 * gets 409).
 */
export function approvalRoutes({ service }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.get('/approvals', async (c) => {
    const state = c.req.query('state');
    if (state !== undefined && !APPROVAL_STATES.includes(state as ApprovalState))
      throw invalidField('state', `must be one of ${APPROVAL_STATES.join(', ')}`);
    const agentId = c.req.query('agent_id');
    const runId = c.req.query('run_id');
    const approvals = await service.listApprovals({
      limit: integerParameter(c, 'limit', { min: 1, max: 1000, fallback: 100 }),
      ...(state === undefined ? {} : { state: state as ApprovalState }),
      ...(agentId === undefined ? {} : { agent_id: agentId }),
      ...(runId === undefined ? {} : { run_id: runId }),
    });
    return c.json({ approvals });
  });

  routes.get('/approvals/:approval_id', async (c) =>
    c.json(await service.getApproval(c.req.param('approval_id'))),
  );

  for (const decision of ['approve', 'deny'] as const) {
    routes.post(`/approvals/:approval_id/${decision}`, async (c) => {
      const body = await readJsonObject(c);
      return c.json(
        await service.decideApproval(c.req.param('approval_id'), { ...body, decision }),
      );
    });
  }

  return routes;
}
