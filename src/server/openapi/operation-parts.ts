import { RUN_STATUSES, REPORTED_AGENT_STATES } from '../../storage/contracts/index.js';
import { MAX_BODY_DEPTH } from '../request-body.js';
import { componentUri, type ComponentName, type JsonSchema } from './components.js';

/** An OpenAPI parameter object. */
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  style?: 'form';
  explode?: boolean;
  schema: JsonSchema;
}

/** An OpenAPI response object. */
export interface Response {
  description: string;
  content?: Record<string, { schema: JsonSchema }>;
}

/** A reference to a component schema. */
export const ref = (name: ComponentName): JsonSchema => ({ $ref: componentUri(name) });

/** A JSON response whose body is `schema`. */
export const jsonResponse = (description: string, schema: JsonSchema): Response => ({
  description,
  content: { 'application/json': { schema } },
});

/** A JSON object with one required property: the shape of every list answer (`{ runs: [...] }`). */
export const wrapped = (property: string, schema: JsonSchema): JsonSchema => ({
  type: 'object',
  required: [property],
  properties: { [property]: schema },
  additionalProperties: false,
});

/** An error response: the body is `Error`, the description names its codes. */
export const errorResponse = (description: string): Response =>
  jsonResponse(description, ref('Error'));

const agentIdSchema: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 128 };
const eventIdSchema: JsonSchema = { type: 'string', pattern: '^\\d+(-\\d+)?$' };

/** The `{agent_id}` path parameter. */
export const agentIdParameter: Parameter = {
  name: 'agent_id',
  in: 'path',
  required: true,
  schema: agentIdSchema,
};

/** The `{run_id}` path parameter. */
export const runIdParameter: Parameter = {
  name: 'run_id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
};

/** `?agent_id=`: only this agent. */
export const agentIdQuery: Parameter = { name: 'agent_id', in: 'query', schema: agentIdSchema };

/** An integer query parameter with its bounds and default. */
export const integerQuery = (
  name: string,
  bounds: { min: number; max: number; fallback: number },
  description?: string,
): Parameter => ({
  name,
  in: 'query',
  description,
  schema: { type: 'integer', minimum: bounds.min, maximum: bounds.max, default: bounds.fallback },
});

/** `?state=`: the agent list's filter, one of the reported states. */
export const stateQuery: Parameter = {
  name: 'state',
  in: 'query',
  schema: { type: 'string', enum: [...REPORTED_AGENT_STATES] },
};

/** `?status=`: the run list's filter, one status or several separated by commas. */
export const statusQuery: Parameter = {
  name: 'status',
  in: 'query',
  description: 'One run status, or several separated by commas.',
  style: 'form',
  explode: false,
  schema: { type: 'array', items: { type: 'string', enum: [...RUN_STATUSES] } },
};

/** Where an event stream or page starts. */
export const eventCursorParameters: Parameter[] = [
  {
    name: 'since',
    in: 'query',
    description:
      'Start after this event id; `0` replays the stored history first. Default: live only (a JSON page: from the start).',
    schema: eventIdSchema,
  },
  {
    name: 'Last-Event-ID',
    in: 'header',
    description: 'Sent by a reconnecting browser; wins over `since`.',
    schema: eventIdSchema,
  },
  integerQuery(
    'limit',
    { min: 1, max: 10_000, fallback: 1000 },
    'With `Accept: application/json`: at most this many events.',
  ),
];

/** The answer of an event route: a live stream, or with `Accept: application/json` a page. */
export const eventsResponse: Response = {
  description:
    'Server-sent events: each message has `id:` = the event id and `data:` = the event as JSON; comments (`: keep-alive`) keep the connection open; reconnect with `Last-Event-ID` to resume without loss or repetition. With `Accept: application/json`: the stored events after `since`, oldest first.',
  content: {
    'text/event-stream': { schema: { type: 'string' } },
    'application/json': { schema: wrapped('events', { type: 'array', items: ref('Event') }) },
  },
};

/** An HTML page of the dashboard. */
export const htmlPage: Response = {
  description: 'HTML page.',
  content: { 'text/html': { schema: { type: 'string' } } },
};

/** The refusals every `/api` route may answer with. */
export const standardErrors: Record<string, Response | { $ref: string }> = {
  '401': { $ref: '#/components/responses/Unauthorized' },
  '403': { $ref: '#/components/responses/Forbidden' },
};

/** The refusals of a route under `/api/agents/{agent_id}`. */
export const agentErrors = {
  ...standardErrors,
  '404': errorResponse('`agent_not_found`: no agent has this id.'),
};

/** The refusals of a route under `/api/runs/{run_id}`. */
export const runErrors = { ...standardErrors, '404': errorResponse('`run_not_found`.') };

/** Refusals of any request that carries a body. */
export const bodyErrors = {
  '413': errorResponse('`payload_too_large`: the body is over the limit (256 KiB by default).'),
  '415': errorResponse(
    '`unsupported_media_type`: the body is not sent as `application/json` (or `application/*+json`).',
  ),
};

/** The 403 of routes that create or change definitions: the guards' refusals, and `token_required`. */
export const definitionForbidden = {
  '403': errorResponse(
    '`host_not_allowed` or `origin_not_allowed` (see `Forbidden`); `token_required`: the definition runs commands (stdio MCP servers) or reaches a new URL (`model_config.base_url`, an MCP `url`), which a server without a token accepts only with `server.allow_unauthenticated_changes: true`.',
  ),
};

/** The 400 of routes that take a definition. */
export const definitionBadRequest = (extra: string): Response =>
  errorResponse(
    `\`config_invalid\`: each bad field is named by path in \`fields\`; also \`model_config.api_key_env\` or a \`\${NAME}\` reference naming an environment variable the server does not allow (\`server.allowed_env\`), and a body nested deeper than ${MAX_BODY_DEPTH} levels (\`(body)\`)${extra}.`,
  );

/** One operation of the API, as a row: the document's `paths` are built from these. */
export interface OperationRow {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** The OpenAPI path (`{agent_id}`, not Hono's `:agent_id`). */
  path: string;
  summary: string;
  description?: string;
  tag: 'agents' | 'runs' | 'events' | 'budgets' | 'approvals' | 'operations' | 'dashboard';
  /** Answered without the token. */
  public?: boolean;
  parameters?: Parameter[];
  body?: { schema: ComponentName; required: boolean };
  responses: Record<string, Response | { $ref: string }>;
}
