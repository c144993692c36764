import { Hono } from 'hono';
import { checkDefinitionChange } from '../definition-policy.js';
import { integerParameter, agentStateParameter, runStatusParameter } from '../query-parameters.js';
import { redactDefinition } from '../redact-definition.js';
import { readJsonObject } from '../request-body.js';
import type { ServerContext, ServerEnvironment } from '../server-context.js';

/**
 * `/api/agents…`: list (by state, by tag), create, read, change and delete agents; their runs
 * and next fire times.
 */
export function agentRoutes({ service, options }: ServerContext): Hono<ServerEnvironment> {
  const routes = new Hono<ServerEnvironment>();

  routes.get('/agents', async (c) => {
    const state = agentStateParameter(c);
    // The service checks the tag, and refuses a bad one naming `tag`.
    const tag = c.req.query('tag');
    const agents = await service.listAgents(tag === undefined ? {} : { tag });
    return c.json({ agents: state ? agents.filter((agent) => agent.state === state) : agents });
  });

  routes.post('/agents', async (c) => {
    const input = await readJsonObject(c);
    const refusal = await checkDefinitionChange(options, input, undefined);
    if (refusal) return c.json(refusal, 403);
    const status = await service.createFromUntyped(input);
    c.header('Location', `/api/agents/${encodeURIComponent(status.agent_id)}`);
    return c.json(status, 201);
  });

  routes.get('/agents/:agent_id', async (c) =>
    c.json(await service.getAgentStatus(c.req.param('agent_id'))),
  );

  routes.get('/agents/:agent_id/definition', async (c) =>
    c.json(redactDefinition(await service.getAgentDefinition(c.req.param('agent_id')))),
  );

  routes.patch('/agents/:agent_id', async (c) => {
    const agentId = c.req.param('agent_id');
    const patch = await readJsonObject(c);
    const refusal = await checkDefinitionChange(options, patch, () =>
      service.getAgentDefinition(agentId),
    );
    if (refusal) return c.json(refusal, 403);
    return c.json(await service.updateAgentFromUntyped(agentId, patch));
  });

  routes.delete('/agents/:agent_id', async (c) => {
    await service.deleteAgent(c.req.param('agent_id'));
    return c.body(null, 204);
  });

  routes.get('/agents/:agent_id/next-runs', async (c) => {
    const agentId = c.req.param('agent_id');
    const count = integerParameter(c, 'n', { min: 1, max: 100, fallback: 5 });
    return c.json({ agent_id: agentId, next_runs: await service.nextRuns(agentId, count) });
  });

  routes.get('/agents/:agent_id/runs', async (c) => {
    const limit = integerParameter(c, 'limit', { min: 1, max: 1000, fallback: 50 });
    const status = runStatusParameter(c);
    const runs = await service.listRuns(c.req.param('agent_id'), {
      limit,
      ...(status ? { status } : {}),
    });
    return c.json({ runs });
  });

  return routes;
}
