import { z } from 'zod';
import type { AgentStatus, WorkerInfo } from '../../service/index.js';
import { REPORTED_AGENT_STATES, RUN_STATUSES } from '../../storage/contracts/index.js';
import { API_ERROR_CODES, type ApiErrorBody } from '../api-error.js';
import { describing } from './describing.js';
import { errorInfoSchema, instant } from './run-schemas.js';

const count = z.number().int().min(0);
/** An amount in US dollars, to the millionth. */
const usd = z.number().min(0);

/** What the API reports about one agent. */
export const agentStatusSchema = describing<AgentStatus>()(
  z.object({
    agent_id: z.string(),
    state: z.enum(REPORTED_AGENT_STATES),
    invalid_reason: z.string().optional().describe('Why an `invalid` agent cannot run.'),
    is_running: z.boolean(),
    running_runs: count,
    waiting_runs: count.describe(
      'runs waiting for a budget or a person (`awaiting_budget`, `awaiting_approval`), held by no process',
    ),
    run_count: count,
    error_count: count,
    skip_count: count,
    missed_count: count,
    consecutive_failures: count,
    last_run_at: instant.nullable(),
    last_run_status: z.enum(RUN_STATUSES).nullable(),
    last_error: errorInfoSchema.nullable(),
    next_run_at: instant.nullable(),
    avg_duration_ms: z.number().nullable(),
    total_tokens: count,
    pause_reason: z.string().nullable(),
    paused_by: z
      .string()
      .nullable()
      .describe('Who paused the agent, when they said; null when not paused, or nobody was named.'),
    paused_until: instant
      .nullable()
      .describe(
        'When a timed pause ends and the agent resumes by itself; null when not paused, or paused until resumed.',
      ),
    tags: z.array(z.string()).describe("The agent's tags (its definition's `tags`)."),
    created_at: instant,
    updated_at: instant,
    schedule: z.object({
      interval: z.number().optional(),
      cron: z.string().optional(),
      timezone: z.string().optional(),
      run_at: z.string().optional(),
    }),
    cost_today_usd: usd.describe(
      "What the agent's runs cost today, in US dollars: the day in the agent's `timezone` (UTC by default). 0 when no priced run ended today.",
    ),
    cost_month_usd: usd.describe(
      "What the agent's runs cost this month (in the agent's `timezone`), in US dollars.",
    ),
    cost_total_usd: usd.describe(
      'What every run of the agent cost, in US dollars (runs of free or unpriced models count 0).',
    ),
  }),
);

/** A worker process of a distributed scheduler. */
export const workerSchema = describing<WorkerInfo>()(
  z.object({
    worker_id: z.string(),
    host: z.string(),
    pid: z.number().int(),
    started_at: instant,
    last_heartbeat: instant,
    running_runs: z.array(z.string()).describe('Run ids executing in that worker now.'),
  }),
);

/** The body of every error response. */
export const errorBodySchema = describing<ApiErrorBody>()(
  z.object({
    error: z.object({
      code: z.enum(API_ERROR_CODES),
      message: z.string(),
      fields: z
        .array(z.object({ path: z.string(), message: z.string() }))
        .optional()
        .describe('Each bad field, named by its path (`model_config.provider`).'),
    }),
  }),
);
