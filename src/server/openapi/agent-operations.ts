import type { ComponentName } from './components.js';
import {
  agentErrors,
  agentIdParameter,
  bodyErrors,
  definitionBadRequest,
  definitionForbidden,
  errorResponse,
  integerQuery,
  jsonResponse,
  ref,
  standardErrors,
  stateQuery,
  wrapped,
  type OperationRow,
} from './operation-parts.js';
import { tagQuery } from './tag-operations.js';

const status = (description: string) => jsonResponse(description, ref('AgentStatus'));

/** A lifecycle button: `POST /api/agents/{agent_id}/<action>`, answered with the new status. */
const lifecycle = (action: string, summary: string, body: ComponentName): OperationRow => ({
  method: 'post',
  path: `/api/agents/{agent_id}/${action}`,
  summary,
  tag: 'agents',
  parameters: [agentIdParameter],
  body: { schema: body, required: false },
  responses: {
    '200': status('The agent status after the change.'),
    '400': errorResponse(
      '`config_invalid`: the body has an unknown or bad field (named in `fields`).',
    ),
    '409': errorResponse('`invalid_state`: the agent is not in a state this action applies to.'),
    ...agentErrors,
    ...bodyErrors,
  },
});

/** The operations on agents: list, create, read, change, delete, the lifecycle buttons, runs now. */
export const AGENT_OPERATIONS: readonly OperationRow[] = [
  {
    method: 'get',
    path: '/api/agents',
    summary: 'List agents with their status, ordered by id',
    tag: 'agents',
    parameters: [stateQuery, tagQuery],
    responses: {
      '200': jsonResponse(
        'The agents.',
        wrapped('agents', { type: 'array', items: ref('AgentStatus') }),
      ),
      '400': errorResponse('`config_invalid`: `state` is not a state, or `tag` not a tag.'),
      ...standardErrors,
    },
  },
  {
    method: 'post',
    path: '/api/agents',
    summary: 'Create an agent (state `created`)',
    tag: 'agents',
    body: { schema: 'AgentDefinitionInput', required: true },
    responses: {
      '201': status("The new agent's status; `Location` names it."),
      '400': definitionBadRequest(''),
      '409': errorResponse('`agent_exists`: the id is taken.'),
      ...bodyErrors,
      ...standardErrors,
      ...definitionForbidden,
    },
  },
  {
    method: 'get',
    path: '/api/agents/{agent_id}',
    summary: "One agent's status",
    tag: 'agents',
    parameters: [agentIdParameter],
    responses: { '200': status('The status.'), ...agentErrors },
  },
  {
    method: 'patch',
    path: '/api/agents/{agent_id}',
    summary: "Change an agent's definition (validated like create); its state is kept",
    tag: 'agents',
    parameters: [agentIdParameter],
    body: { schema: 'AgentPatch', required: true },
    responses: {
      '200': status('The status after the change.'),
      '400': definitionBadRequest(
        ', and a patch setting more than one of interval, cron and run_at',
      ),
      ...bodyErrors,
      ...agentErrors,
      ...definitionForbidden,
    },
  },
  {
    method: 'delete',
    path: '/api/agents/{agent_id}',
    summary: 'Delete an agent, its runs and its conversation; runs in flight are cancelled',
    tag: 'agents',
    parameters: [agentIdParameter],
    responses: { '204': { description: 'Deleted.' }, ...agentErrors },
  },
  {
    method: 'get',
    path: '/api/agents/{agent_id}/definition',
    summary:
      "The agent's definition as stored (defaults filled in, credentials shown as `[redacted]`)",
    tag: 'agents',
    parameters: [agentIdParameter],
    responses: { '200': jsonResponse('The definition.', ref('AgentDefinition')), ...agentErrors },
  },
  lifecycle('start', 'Put the agent on its schedule', 'EmptyBody'),
  lifecycle(
    'pause',
    'Take the agent off its schedule until resumed, or until `until` (a timed pause); the note says why and who',
    'PauseBody',
  ),
  lifecycle('resume', 'Put a paused agent back on its schedule', 'EmptyBody'),
  lifecycle('stop', 'Stop the agent; `cancel` also cancels the run in flight', 'StopBody'),
  {
    method: 'post',
    path: '/api/agents/{agent_id}/run',
    summary: 'Run the agent now, outside its schedule',
    tag: 'agents',
    parameters: [agentIdParameter],
    body: { schema: 'RunBody', required: false },
    responses: {
      '200': jsonResponse(
        'The run, ended (with `wait`, or skipped by the overlap policy).',
        ref('RunRecord'),
      ),
      '202': jsonResponse('The run, dispatched.', ref('RunRecord')),
      '400': errorResponse('`config_invalid`: a bad or unknown body field.'),
      '409': errorResponse('`invalid_state`: this process runs no agents.'),
      ...agentErrors,
      ...bodyErrors,
    },
  },
  {
    method: 'get',
    path: '/api/agents/{agent_id}/next-runs',
    summary: "The next fire times of the agent's schedule",
    tag: 'agents',
    parameters: [agentIdParameter, integerQuery('n', { min: 1, max: 100, fallback: 5 })],
    responses: {
      '200': jsonResponse('ISO date-times, soonest first.', {
        type: 'object',
        required: ['agent_id', 'next_runs'],
        properties: {
          agent_id: { type: 'string' },
          next_runs: { type: 'array', items: { type: 'string', format: 'date-time' } },
        },
        additionalProperties: false,
      }),
      '400': errorResponse('`config_invalid`: `n` is out of range.'),
      ...agentErrors,
    },
  },
];
