import { AGENT_OPERATIONS } from './agent-operations.js';
import { APPROVAL_OPERATIONS } from './approval-operations.js';
import { BACKFILL_OPERATIONS } from './backfill-operations.js';
import { BUDGET_OPERATIONS } from './budget-operations.js';
import { RETENTION_OPERATIONS } from './retention-operations.js';
import { REPLAY_OPERATIONS } from './replay-operations.js';
import { INBOX_OPERATIONS } from './inbox-operations.js';
import { TAG_OPERATIONS } from './tag-operations.js';
import {
  agentErrors,
  agentIdParameter,
  agentIdQuery,
  bodyErrors,
  errorResponse,
  eventCursorParameters,
  eventsResponse,
  htmlPage,
  integerQuery,
  jsonResponse,
  ref,
  runErrors,
  runIdParameter,
  standardErrors,
  statusQuery,
  wrapped,
  type OperationRow,
} from './operation-parts.js';

const overviewDescription =
  "Computed from the agents' statuses and the newest runs of the agents that ran in the window, reading a bounded number of run records in all (`coverage` says how many, and from when the counts are complete).";

/** Every operation the server answers. */
export const OPERATIONS: readonly OperationRow[] = [
  ...AGENT_OPERATIONS,
  ...TAG_OPERATIONS,
  ...BACKFILL_OPERATIONS,
  ...APPROVAL_OPERATIONS,
  {
    method: 'get',
    path: '/api/agents/{agent_id}/runs',
    summary: "The agent's runs, newest first",
    tag: 'runs',
    parameters: [
      agentIdParameter,
      integerQuery('limit', { min: 1, max: 1000, fallback: 50 }),
      statusQuery,
    ],
    responses: {
      '200': jsonResponse('The runs.', wrapped('runs', { type: 'array', items: ref('RunRecord') })),
      '400': errorResponse('`config_invalid`: `limit` or `status` is bad.'),
      ...agentErrors,
    },
  },
  {
    method: 'get',
    path: '/api/agents/{agent_id}/events',
    summary: "The agent's events: live (server-sent events), or a page of stored ones",
    tag: 'events',
    parameters: [agentIdParameter, ...eventCursorParameters],
    responses: {
      '200': eventsResponse,
      '400': errorResponse('`config_invalid`: `since` or `Last-Event-ID` is not an event id.'),
      ...agentErrors,
    },
  },
  {
    method: 'get',
    path: '/api/events',
    summary: "The whole fleet's events: live (server-sent events), or a page of stored ones",
    tag: 'events',
    parameters: eventCursorParameters,
    responses: {
      '200': eventsResponse,
      '400': errorResponse('`config_invalid`: `since` or `Last-Event-ID` is not an event id.'),
      ...standardErrors,
    },
  },
  {
    method: 'get',
    path: '/api/runs/{run_id}',
    summary: 'One run record with its steps',
    tag: 'runs',
    parameters: [runIdParameter],
    responses: {
      '200': jsonResponse(
        'The run and its steps, in the order they happened.',
        ref('RunWithSteps'),
      ),
      ...runErrors,
    },
  },
  {
    method: 'post',
    path: '/api/runs/{run_id}/deny-budget',
    summary: 'Refuse a run waiting for a budget more: it ends `budget_exceeded`',
    description:
      'For a run in `awaiting_budget` (`budget_config.on_exhausted: wait`). Its error keeps the budget it waited on and says who denied it and why. A grant (`POST /api/budgets/grants`) or the window’s reset wakes it instead.',
    tag: 'runs',
    parameters: [runIdParameter],
    body: { schema: 'BudgetDenialInput', required: true },
    responses: {
      '200': jsonResponse('The run as it ended.', ref('RunRecord')),
      '400': errorResponse('`config_invalid`: `by` or `note` missing or bad, named in `fields`.'),
      '409': errorResponse(
        '`invalid_state`: the run is not waiting for a budget (woken, denied or ended meanwhile).',
      ),
      ...bodyErrors,
      ...runErrors,
    },
  },
  ...REPLAY_OPERATIONS,
  {
    method: 'get',
    path: '/api/runs/{run_id}/events',
    summary: 'The events of one run, oldest first',
    description:
      "Read from the event log with bounded work: from shortly before the run began, among its agent's events, until shortly after it ended. The log keeps the newest events only (100,000 by default), so an old run may have none left.",
    tag: 'runs',
    parameters: [runIdParameter],
    responses: {
      '200': jsonResponse('The events; `complete` is false when the read stopped at its bound.', {
        type: 'object',
        required: ['run_id', 'events', 'complete'],
        properties: {
          run_id: { type: 'string' },
          events: { type: 'array', items: ref('Event') },
          complete: { type: 'boolean' },
        },
        additionalProperties: false,
      }),
      ...runErrors,
    },
  },
  {
    method: 'get',
    path: '/api/runs/{run_id}/report',
    summary:
      'Everything the run page shows: record, steps, timings, a timeline of steps and events, and the previous and next runs',
    tag: 'runs',
    parameters: [runIdParameter],
    responses: { '200': jsonResponse('The report.', ref('RunReport')), ...runErrors },
  },
  {
    method: 'get',
    path: '/api/workers',
    summary:
      'The worker processes of a distributed (BullMQ) scheduler, from its heartbeat registry',
    description:
      'Empty with the in-process scheduler: its runs execute inside the process that runs the agents.',
    tag: 'operations',
    responses: {
      '200': jsonResponse(
        'The workers, by id.',
        wrapped('workers', { type: 'array', items: ref('Worker') }),
      ),
      ...standardErrors,
    },
  },
  {
    method: 'get',
    path: '/api/overview',
    summary:
      'The fleet at a glance: agents by state, runs in flight, runs per bucket by status, failures, usage today',
    description: overviewDescription,
    tag: 'dashboard',
    parameters: [
      integerQuery(
        'hours',
        { min: 1, max: 24, fallback: 3 },
        'The window, in hours back from now.',
      ),
      {
        name: 'day_start',
        in: 'query',
        description:
          "Where today starts for `usage_today` (the viewer's midnight), within the last 48 hours. Default: midnight UTC.",
        schema: { type: 'string', format: 'date-time' },
      },
    ],
    responses: {
      '200': jsonResponse('The overview.', ref('FleetOverview')),
      '400': errorResponse('`config_invalid`: `hours` or `day_start` is out of range.'),
      ...standardErrors,
    },
  },
  {
    method: 'get',
    path: '/api/events/recent',
    summary: 'The newest events of the fleet (or of one agent), oldest first',
    description:
      'Found without reading the history: the log is searched for the cursor with `limit` events after it. Follow on live with the event stream and `?since=` the last id.',
    tag: 'events',
    parameters: [agentIdQuery, integerQuery('limit', { min: 1, max: 500, fallback: 50 })],
    responses: {
      '200': jsonResponse('The events.', wrapped('events', { type: 'array', items: ref('Event') })),
      '400': errorResponse('`config_invalid`: `limit` is out of range.'),
      '404': errorResponse('`agent_not_found`: `agent_id` names no agent.'),
      ...standardErrors,
    },
  },
  ...BUDGET_OPERATIONS,
  ...INBOX_OPERATIONS,
  ...RETENTION_OPERATIONS,
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics of the fleet',
    tag: 'operations',
    responses: {
      '200': {
        description: 'Prometheus text exposition.',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      ...standardErrors,
    },
  },
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process answers (always 200; no token needed)',
    tag: 'operations',
    public: true,
    responses: { '200': jsonResponse('Alive.', { type: 'object' }) },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the stores answer (no token needed)',
    tag: 'operations',
    public: true,
    responses: {
      '200': jsonResponse('Ready.', { type: 'object' }),
      '503': errorResponse('`storage_unavailable`: the stores do not answer.'),
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'operations',
    public: true,
    responses: { '200': jsonResponse('OpenAPI 3.1.', { type: 'object' }) },
  },
  {
    method: 'get',
    path: '/',
    summary:
      'Dashboard: the fleet (HTML; the page asks for the token and sends it as a Bearer header)',
    tag: 'dashboard',
    public: true,
    responses: { '200': htmlPage },
  },
  {
    method: 'get',
    path: '/agents/{agent_id}',
    summary: 'Dashboard: one agent (HTML)',
    tag: 'dashboard',
    public: true,
    parameters: [agentIdParameter],
    responses: { '200': htmlPage },
  },
  {
    method: 'get',
    path: '/runs/{run_id}',
    summary: 'Dashboard: one run (HTML)',
    tag: 'dashboard',
    public: true,
    parameters: [runIdParameter],
    responses: { '200': htmlPage },
  },
];
