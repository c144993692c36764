/**
 * The OpenAPI 3.1 description of every route the server answers, written by hand so it says
 * what the API promises rather than what a generator guessed. A test checks that it lists
 * every route the app registers.
 */

import { MAX_BODY_DEPTH } from './request-body.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({
  description,
  content: json(ref('Error')),
});
const agentIdParameter = {
  name: 'agent_id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 128 },
};
const standardErrors = {
  '401': { $ref: '#/components/responses/Unauthorized' },
  '403': { $ref: '#/components/responses/Forbidden' },
};
const agentErrors = {
  ...standardErrors,
  '404': errorResponse('`agent_not_found`: no agent has this id.'),
};
/** Refusals of any request that carries a body. */
const bodyErrors = {
  '413': errorResponse('`payload_too_large`: the body is over the limit (256 KiB by default).'),
  '415': errorResponse(
    '`unsupported_media_type`: the body is not sent as `application/json` (or `application/*+json`).',
  ),
};
/** The 403 of routes that create or change definitions: the guards' refusals, and `token_required`. */
const definitionForbidden = {
  '403': errorResponse(
    '`host_not_allowed` or `origin_not_allowed` (see `Forbidden`); `token_required`: the definition runs commands (stdio MCP servers) or reaches a new URL (`model_config.base_url`, an MCP `url`), which a server without a token accepts only with `server.allow_unauthenticated_changes: true`.',
  ),
};
const definitionBadRequest = (extra: string) =>
  errorResponse(
    `\`config_invalid\`: each bad field is named by path in \`fields\`; also \`model_config.api_key_env\` or a \`\${NAME}\` reference naming an environment variable the server does not allow (\`server.allowed_env\`), and a body nested deeper than ${MAX_BODY_DEPTH} levels (\`(body)\`)${extra}.`,
  );
const statusResponse = (description: string) => ({
  description,
  content: json(ref('AgentStatus')),
});
const optionalBody = (schema: object) => ({ required: false, content: json(schema) });
const eventStream = {
  description:
    'Server-sent events. Each message has `id:` = the event id and `data:` = the event as JSON; comments (`: keep-alive`) keep the connection open. Reconnect with the `Last-Event-ID` header to resume without loss or repetition.',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
};
const runIdParameter = { name: 'run_id', in: 'path', required: true, schema: { type: 'string' } };
const htmlPage = {
  '200': { description: 'HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
};
const eventCursorParameters = [
  {
    name: 'since',
    in: 'query',
    description:
      'Start after this event id; `0` replays the stored history first. Default: live only.',
    schema: { type: 'string', pattern: '^\\d+(-\\d+)?$' },
  },
  {
    name: 'Last-Event-ID',
    in: 'header',
    description: 'Sent by a reconnecting browser; wins over `since`.',
    schema: { type: 'string', pattern: '^\\d+(-\\d+)?$' },
  },
];
const lifecycle = (summary: string, body: object | undefined, extra: object = {}) => ({
  post: {
    summary,
    tags: ['agents'],
    parameters: [agentIdParameter],
    ...(body ? { requestBody: optionalBody(body) } : {}),
    responses: {
      '200': statusResponse('The agent status after the change.'),
      '400': errorResponse(
        '`config_invalid`: the body has an unknown or bad field (named in `fields`).',
      ),
      '409': errorResponse('`invalid_state`: the agent is not in a state this action applies to.'),
      ...agentErrors,
      ...bodyErrors,
      ...extra,
    },
  },
});

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Nightshift',
    version: '0.1.0',
    description:
      "Manage and watch background LLM agents. Every `/api` and `/metrics` call needs `Authorization: Bearer <token>` when the server has a token. Requests must name the server in `Host`, and browsers may call only from the server's own origin.",
  },
  security: [{ bearer: [] }],
  tags: [
    { name: 'agents' },
    { name: 'runs' },
    { name: 'events' },
    { name: 'operations' },
    { name: 'dashboard' },
  ],
  paths: {
    '/api/agents': {
      get: {
        summary: 'List agents with their status, ordered by id',
        tags: ['agents'],
        parameters: [
          {
            name: 'state',
            in: 'query',
            schema: { enum: ['created', 'active', 'paused', 'stopped', 'invalid'] },
          },
        ],
        responses: {
          '200': {
            description: 'The agents.',
            content: json({
              type: 'object',
              required: ['agents'],
              properties: { agents: { type: 'array', items: ref('AgentStatus') } },
            }),
          },
          '400': errorResponse('`config_invalid`: `state` is not a state.'),
          ...standardErrors,
        },
      },
      post: {
        summary: 'Create an agent (state `created`)',
        tags: ['agents'],
        requestBody: { required: true, content: json(ref('AgentDefinition')) },
        responses: {
          '201': statusResponse("The new agent's status; `Location` names it."),
          '400': definitionBadRequest(''),
          '409': errorResponse('`agent_exists`: the id is taken.'),
          ...bodyErrors,
          ...standardErrors,
          ...definitionForbidden,
        },
      },
    },
    '/api/agents/{agent_id}': {
      get: {
        summary: "One agent's status",
        tags: ['agents'],
        parameters: [agentIdParameter],
        responses: { '200': statusResponse('The status.'), ...agentErrors },
      },
      patch: {
        summary: "Change an agent's definition (validated like create); its state is kept",
        tags: ['agents'],
        parameters: [agentIdParameter],
        requestBody: {
          required: true,
          content: json({ type: 'object', description: 'Fields of the definition to change.' }),
        },
        responses: {
          '200': statusResponse('The status after the change.'),
          '400': definitionBadRequest(
            ', and a patch setting more than one of interval, cron and run_at',
          ),
          ...bodyErrors,
          ...agentErrors,
          ...definitionForbidden,
        },
      },
      delete: {
        summary: 'Delete an agent, its runs and its conversation; runs in flight are cancelled',
        tags: ['agents'],
        parameters: [agentIdParameter],
        responses: { '204': { description: 'Deleted.' }, ...agentErrors },
      },
    },
    '/api/agents/{agent_id}/definition': {
      get: {
        summary:
          "The agent's definition as stored (defaults filled in, credentials shown as `***`)",
        tags: ['agents'],
        parameters: [agentIdParameter],
        responses: {
          '200': { description: 'The definition.', content: json(ref('AgentDefinition')) },
          ...agentErrors,
        },
      },
    },
    '/api/agents/{agent_id}/start': lifecycle('Put the agent on its schedule', ref('EmptyBody')),
    '/api/agents/{agent_id}/pause': lifecycle('Take the agent off its schedule until resumed', {
      type: 'object',
      additionalProperties: false,
      properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
    }),
    '/api/agents/{agent_id}/resume': lifecycle(
      'Put a paused agent back on its schedule',
      ref('EmptyBody'),
    ),
    '/api/agents/{agent_id}/stop': lifecycle(
      'Stop the agent; `cancel` also cancels the run in flight',
      {
        type: 'object',
        additionalProperties: false,
        properties: { cancel: { type: 'boolean' } },
      },
    ),
    '/api/agents/{agent_id}/run': {
      post: {
        summary: 'Run the agent now, outside its schedule',
        tags: ['agents'],
        parameters: [agentIdParameter],
        requestBody: optionalBody({
          type: 'object',
          additionalProperties: false,
          properties: {
            query: {
              type: 'string',
              minLength: 1,
              description: 'Replaces task_config.query for this run.',
            },
            wait: { type: 'boolean', description: 'Answer when the run has ended.' },
          },
        }),
        responses: {
          '200': {
            description: 'The run, ended (with `wait`, or skipped by the overlap policy).',
            content: json(ref('RunRecord')),
          },
          '202': { description: 'The run, dispatched.', content: json(ref('RunRecord')) },
          '400': errorResponse('`config_invalid`: a bad or unknown body field.'),
          '409': errorResponse('`invalid_state`: this process runs no agents.'),
          ...agentErrors,
          ...bodyErrors,
        },
      },
    },
    '/api/agents/{agent_id}/next-runs': {
      get: {
        summary: "The next fire times of the agent's schedule",
        tags: ['agents'],
        parameters: [
          agentIdParameter,
          {
            name: 'n',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
          },
        ],
        responses: {
          '200': {
            description: 'ISO date-times, soonest first.',
            content: json({
              type: 'object',
              required: ['agent_id', 'next_runs'],
              properties: {
                agent_id: { type: 'string' },
                next_runs: { type: 'array', items: { type: 'string', format: 'date-time' } },
              },
            }),
          },
          '400': errorResponse('`config_invalid`: `n` is out of range.'),
          ...agentErrors,
        },
      },
    },
    '/api/agents/{agent_id}/runs': {
      get: {
        summary: "The agent's runs, newest first",
        tags: ['runs'],
        parameters: [
          agentIdParameter,
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
          },
          {
            name: 'status',
            in: 'query',
            description: 'One run status, or several separated by commas.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'The runs.',
            content: json({
              type: 'object',
              required: ['runs'],
              properties: { runs: { type: 'array', items: ref('RunRecord') } },
            }),
          },
          '400': errorResponse('`config_invalid`: `limit` or `status` is bad.'),
          ...agentErrors,
        },
      },
    },
    '/api/agents/{agent_id}/events': {
      get: {
        summary: "The agent's live events (server-sent events)",
        tags: ['events'],
        parameters: [agentIdParameter, ...eventCursorParameters],
        responses: {
          '200': eventStream,
          '400': errorResponse('`config_invalid`: `since` or `Last-Event-ID` is not an event id.'),
          ...agentErrors,
        },
      },
    },
    '/api/events': {
      get: {
        summary: "The whole fleet's live events (server-sent events)",
        tags: ['events'],
        parameters: eventCursorParameters,
        responses: {
          '200': eventStream,
          '400': errorResponse('`config_invalid`: `since` or `Last-Event-ID` is not an event id.'),
          ...standardErrors,
        },
      },
    },
    '/api/runs/{run_id}': {
      get: {
        summary: 'One run record with its steps',
        tags: ['runs'],
        parameters: [runIdParameter],
        responses: {
          '200': {
            description: 'The run and its steps, in the order they happened.',
            content: json({
              allOf: [
                ref('RunRecord'),
                {
                  type: 'object',
                  required: ['steps'],
                  properties: { steps: { type: 'array', items: ref('RunStep') } },
                },
              ],
            }),
          },
          '404': errorResponse('`run_not_found`.'),
          ...standardErrors,
        },
      },
    },
    '/api/runs/{run_id}/events': {
      get: {
        summary: 'The events of one run, oldest first',
        description:
          "Read from the event log with bounded work: from shortly before the run began, among its agent's events, until shortly after it ended. The log keeps the newest events only (100,000 by default), so an old run may have none left.",
        tags: ['runs'],
        parameters: [runIdParameter],
        responses: {
          '200': {
            description: 'The events; `complete` is false when the read stopped at its bound.',
            content: json({
              type: 'object',
              required: ['run_id', 'events', 'complete'],
              properties: {
                run_id: { type: 'string' },
                events: { type: 'array', items: ref('Event') },
                complete: { type: 'boolean' },
              },
            }),
          },
          '404': errorResponse('`run_not_found`.'),
          ...standardErrors,
        },
      },
    },
    '/api/runs/{run_id}/report': {
      get: {
        summary:
          'Everything the run page shows: record, steps, timings, a timeline of steps and events, and the previous and next runs',
        tags: ['runs'],
        parameters: [runIdParameter],
        responses: {
          '200': { description: 'The report.', content: json(ref('RunReport')) },
          '404': errorResponse('`run_not_found`.'),
          ...standardErrors,
        },
      },
    },
    '/api/workers': {
      get: {
        summary:
          'The worker processes of a distributed (BullMQ) scheduler, from its heartbeat registry',
        description:
          'Empty with the in-process scheduler: its runs execute inside the process that runs the agents.',
        tags: ['operations'],
        responses: {
          '200': {
            description: 'The workers, by id.',
            content: json({
              type: 'object',
              required: ['workers'],
              properties: { workers: { type: 'array', items: ref('Worker') } },
            }),
          },
          ...standardErrors,
        },
      },
    },
    '/api/overview': {
      get: {
        summary:
          'The fleet at a glance: agents by state, runs in flight, runs per bucket by status, failures, usage today',
        description:
          "Computed from the agents' statuses and the newest runs of the agents that ran in the window, reading a bounded number of run records in all (`coverage` says how many, and from when the counts are complete). Spend is not tracked.",
        tags: ['dashboard'],
        parameters: [
          {
            name: 'hours',
            in: 'query',
            description: 'The window, in hours back from now.',
            schema: { type: 'integer', minimum: 1, maximum: 24, default: 3 },
          },
          {
            name: 'day_start',
            in: 'query',
            description:
              "Where today starts for `usage_today` (the viewer's midnight), within the last 48 hours. Default: midnight UTC.",
            schema: { type: 'string', format: 'date-time' },
          },
        ],
        responses: {
          '200': { description: 'The overview.', content: json(ref('FleetOverview')) },
          '400': errorResponse('`config_invalid`: `hours` or `day_start` is out of range.'),
          ...standardErrors,
        },
      },
    },
    '/api/events/recent': {
      get: {
        summary: 'The newest events of the fleet (or of one agent), oldest first',
        description:
          'Found without reading the history: the log is searched for the cursor with `limit` events after it. Follow on live with the event stream and `?since=` the last id.',
        tags: ['events'],
        parameters: [
          { name: 'agent_id', in: 'query', schema: agentIdParameter.schema },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        ],
        responses: {
          '200': {
            description: 'The events.',
            content: json({
              type: 'object',
              required: ['events'],
              properties: { events: { type: 'array', items: ref('Event') } },
            }),
          },
          '400': errorResponse('`config_invalid`: `limit` is out of range.'),
          '404': errorResponse('`agent_not_found`: `agent_id` names no agent.'),
          ...standardErrors,
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics of the fleet',
        tags: ['operations'],
        responses: {
          '200': {
            description: 'Prometheus text exposition.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...standardErrors,
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'Liveness: the process answers (always 200; no token needed)',
        tags: ['operations'],
        security: [],
        responses: { '200': { description: 'Alive.', content: json({ type: 'object' }) } },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: the stores answer (no token needed)',
        tags: ['operations'],
        security: [],
        responses: {
          '200': { description: 'Ready.', content: json({ type: 'object' }) },
          '503': errorResponse('`storage_unavailable`: the stores do not answer.'),
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        tags: ['operations'],
        security: [],
        responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } },
      },
    },
    '/': {
      get: {
        summary:
          'Dashboard: the fleet (HTML; the page asks for the token and sends it as a Bearer header)',
        tags: ['dashboard'],
        security: [],
        responses: {
          '200': {
            description: 'HTML page.',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/agents/{agent_id}': {
      get: {
        summary: 'Dashboard: one agent (HTML)',
        tags: ['dashboard'],
        security: [],
        parameters: [agentIdParameter],
        responses: htmlPage,
      },
    },
    '/runs/{run_id}': {
      get: {
        summary: 'Dashboard: one run (HTML)',
        tags: ['dashboard'],
        security: [],
        parameters: [runIdParameter],
        responses: htmlPage,
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description:
          "The server's token (`NIGHTSHIFT_TOKEN`). Required when set; never sent in URLs.",
      },
    },
    responses: {
      Unauthorized: errorResponse('`unauthorized`: the bearer token is missing or wrong.'),
      Forbidden: errorResponse(
        '`host_not_allowed`: the Host header does not name this server; `origin_not_allowed`: the request came from another origin.',
      ),
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              fields: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['path', 'message'],
                  properties: { path: { type: 'string' }, message: { type: 'string' } },
                },
              },
            },
          },
        },
      },
      EmptyBody: { type: 'object', additionalProperties: false },
      Usage: {
        type: 'object',
        properties: {
          requests: { type: 'integer' },
          input_tokens: { type: 'integer' },
          output_tokens: { type: 'integer' },
          total_tokens: { type: 'integer' },
        },
      },
      ErrorInfo: {
        type: ['object', 'null'],
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
      AgentDefinition: {
        type: 'object',
        description:
          'An agent definition, snake_case, exactly as in YAML (see the README for every field and default).',
        required: ['agent_id', 'model_config', 'task_config'],
        properties: {
          agent_id: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 128 },
          system_instruction: { type: 'string' },
          model_config: { type: 'object', required: ['provider'] },
          interval: { type: 'number', exclusiveMinimum: 0 },
          cron: { type: 'string' },
          timezone: { type: 'string' },
          run_at: { type: 'string', format: 'date-time' },
          task_config: { type: 'object', required: ['query'] },
          agent_config: { type: 'object' },
          tools: { type: 'array', items: { type: 'string' } },
          mcp_tools: { type: 'array', items: { type: 'object' } },
        },
      },
      AgentStatus: {
        type: 'object',
        required: ['agent_id', 'state', 'is_running', 'run_count', 'error_count'],
        properties: {
          agent_id: { type: 'string' },
          state: { enum: ['created', 'active', 'paused', 'stopped', 'invalid'] },
          invalid_reason: { type: 'string', description: 'why an invalid agent cannot run' },
          is_running: { type: 'boolean' },
          running_runs: { type: 'integer' },
          run_count: { type: 'integer' },
          error_count: { type: 'integer' },
          skip_count: { type: 'integer' },
          missed_count: { type: 'integer' },
          consecutive_failures: { type: 'integer' },
          last_run_at: { type: ['string', 'null'], format: 'date-time' },
          last_run_status: { type: ['string', 'null'] },
          last_error: ref('ErrorInfo'),
          next_run_at: { type: ['string', 'null'], format: 'date-time' },
          avg_duration_ms: { type: ['number', 'null'] },
          total_tokens: { type: 'integer' },
          pause_reason: { type: ['string', 'null'] },
          created_at: { type: 'string', format: 'date-time' },
          updated_at: { type: 'string', format: 'date-time' },
          schedule: { type: 'object' },
        },
      },
      RunRecord: {
        type: 'object',
        required: ['run_id', 'agent_id', 'status'],
        properties: {
          run_id: { type: 'string' },
          agent_id: { type: 'string' },
          trigger: { enum: ['schedule', 'manual'] },
          scheduled_at: { type: 'string', format: 'date-time' },
          created_at: { type: 'string', format: 'date-time' },
          started_at: { type: ['string', 'null'], format: 'date-time' },
          ended_at: { type: ['string', 'null'], format: 'date-time' },
          status: {
            enum: [
              'pending',
              'running',
              'completed',
              'failed',
              'timed_out',
              'budget_exceeded',
              'cancelled',
              'skipped',
              'interrupted',
            ],
          },
          query: { type: 'string' },
          attempts: { type: 'array', items: { type: 'object' } },
          output: { type: ['string', 'null'] },
          error: ref('ErrorInfo'),
          usage: ref('Usage'),
          skip_reason: { type: ['string', 'null'] },
        },
      },
      RunStep: {
        type: 'object',
        required: ['step_id', 'kind', 'state'],
        properties: {
          step_id: { type: 'string' },
          attempt: { type: 'integer' },
          index: { type: 'integer' },
          kind: { enum: ['model_call', 'tool_call'] },
          state: { enum: ['started', 'completed'] },
          started_at: { type: 'string', format: 'date-time' },
          ended_at: { type: ['string', 'null'], format: 'date-time' },
          usage: ref('Usage'),
          tool_name: { type: 'string' },
          outcome: { enum: ['success', 'error', 'timeout', 'cancelled'] },
        },
      },
      RunLink: {
        type: ['object', 'null'],
        required: ['run_id', 'status', 'scheduled_at'],
        properties: {
          run_id: { type: 'string' },
          status: { type: 'string' },
          scheduled_at: { type: 'string', format: 'date-time' },
        },
      },
      TimelineEntry: {
        type: 'object',
        description:
          "`model_call`: a model call with `usage`, `finish_reason` and its `reply` text; `tool_call`: a tool call with `tool_name`, `outcome`, `arguments`, `result` and `error` (arguments and result come from the run's events); `event`: any other event of the run (`event`).",
        required: ['kind', 'at', 'attempt'],
        properties: {
          kind: { enum: ['model_call', 'tool_call', 'event'] },
          at: { type: 'string', format: 'date-time' },
          attempt: { type: 'integer' },
          step_id: { type: 'string' },
          state: { enum: ['started', 'completed'] },
          ended_at: { type: ['string', 'null'], format: 'date-time' },
          duration_ms: { type: ['integer', 'null'] },
          usage: { anyOf: [ref('Usage'), { type: 'null' }] },
          finish_reason: { type: ['string', 'null'] },
          reply: { type: ['string', 'null'] },
          tool_name: { type: 'string' },
          tool_call_id: { type: ['string', 'null'] },
          outcome: { enum: ['success', 'error', 'timeout', 'cancelled', null] },
          arguments: {},
          result: {},
          error: { type: ['string', 'null'] },
          event: ref('Event'),
        },
      },
      RunReport: {
        type: 'object',
        required: [
          'run',
          'steps',
          'timing',
          'timeline',
          'events',
          'events_complete',
          'previous_run',
          'next_run',
        ],
        properties: {
          run: ref('RunRecord'),
          steps: { type: 'array', items: ref('RunStep') },
          timing: {
            type: 'object',
            properties: {
              scheduled_at: { type: 'string', format: 'date-time' },
              created_at: { type: 'string', format: 'date-time' },
              started_at: { type: ['string', 'null'], format: 'date-time' },
              ended_at: { type: ['string', 'null'], format: 'date-time' },
              duration_ms: { type: ['integer', 'null'] },
              lateness_ms: {
                type: ['integer', 'null'],
                description: 'From when the run was due (a manual run: requested) to its start.',
              },
            },
          },
          timeline: { type: 'array', items: ref('TimelineEntry') },
          events: {
            type: ['array', 'null'],
            items: ref('Event'),
            description: 'Null when the events were not read.',
          },
          events_complete: { type: 'boolean' },
          previous_run: ref('RunLink'),
          next_run: ref('RunLink'),
        },
      },
      Worker: {
        type: 'object',
        required: ['worker_id', 'host', 'pid', 'started_at', 'last_heartbeat', 'running_runs'],
        properties: {
          worker_id: { type: 'string' },
          host: { type: 'string' },
          pid: { type: 'integer' },
          started_at: { type: 'string', format: 'date-time' },
          last_heartbeat: { type: 'string', format: 'date-time' },
          running_runs: { type: 'array', items: { type: 'string' } },
        },
      },
      FleetOverview: {
        type: 'object',
        required: [
          'generated_at',
          'window',
          'agents',
          'in_flight',
          'runs',
          'usage_today',
          'coverage',
        ],
        properties: {
          generated_at: { type: 'string', format: 'date-time' },
          window: {
            type: 'object',
            properties: {
              start: { type: 'string', format: 'date-time' },
              end: { type: 'string', format: 'date-time' },
              hours: { type: 'integer' },
              bucket_minutes: { type: 'integer' },
            },
          },
          agents: {
            type: 'object',
            properties: {
              total: { type: 'integer' },
              by_state: { type: 'object', additionalProperties: { type: 'integer' } },
              invalid: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { agent_id: { type: 'string' }, invalid_reason: { type: 'string' } },
                },
              },
            },
          },
          in_flight: {
            type: 'object',
            properties: {
              runs: { type: 'integer' },
              agents: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { agent_id: { type: 'string' }, running_runs: { type: 'integer' } },
                },
              },
            },
          },
          runs: {
            type: 'object',
            properties: {
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  description: 'Runs that ended in `[start, start + bucket_minutes)`, by status.',
                  properties: {
                    start: { type: 'string', format: 'date-time' },
                    counts: { type: 'object', additionalProperties: { type: 'integer' } },
                  },
                },
              },
              totals: { type: 'object', additionalProperties: { type: 'integer' } },
              failures: { type: 'integer' },
              failures_by_hour: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    start: { type: 'string', format: 'date-time' },
                    end: { type: 'string', format: 'date-time' },
                    count: { type: 'integer' },
                  },
                },
              },
              recent_failures: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    run_id: { type: 'string' },
                    agent_id: { type: 'string' },
                    status: { type: 'string' },
                    ended_at: { type: 'string', format: 'date-time' },
                    error: ref('ErrorInfo'),
                  },
                },
              },
            },
          },
          usage_today: {
            type: 'object',
            properties: {
              since: { type: 'string', format: 'date-time' },
              runs: { type: 'integer' },
              requests: { type: 'integer' },
              input_tokens: { type: 'integer' },
              output_tokens: { type: 'integer' },
              total_tokens: { type: 'integer' },
              complete: { type: 'boolean' },
            },
          },
          coverage: {
            type: 'object',
            properties: {
              agents_read: { type: 'integer' },
              runs_read: { type: 'integer' },
              complete_since: { type: ['string', 'null'], format: 'date-time' },
            },
          },
        },
      },
      Event: {
        type: 'object',
        description: 'The data of each server-sent event.',
        required: ['id', 'type', 'agent_id', 'run_id', 'timestamp', 'payload'],
        properties: {
          id: { type: 'string' },
          type: {
            enum: [
              'background_task_started',
              'user_message',
              'agent_message',
              'tool_call_started',
              'tool_call_result',
              'tool_call_error',
              'final_answer',
              'run_warning',
              'background_task_completed',
              'background_task_error',
              'background_task_skipped',
              'background_task_missed',
              'background_agent_status',
            ],
          },
          agent_id: { type: 'string' },
          run_id: { type: ['string', 'null'] },
          timestamp: { type: 'string', format: 'date-time' },
          payload: { type: 'object' },
        },
      },
    },
  },
} as const;
