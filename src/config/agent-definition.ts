import { z } from 'zod';
import { retentionSchema } from './retention.js';
import { approvalRuleSchema } from './approval-rules.js';
import { guardrailsSchema } from './guardrails.js';
import { cronPatternProblem, isValidTimezone } from '../schedule/cron-pattern.js';
import { parseIsoInstant } from '../schedule/iso-instant.js';
import { createSchedule, scheduleSpecOf } from '../schedule/next-fire-time.js';
import { allowHostEntrySchema } from './allow-host-entry.js';
import { outputRepairsSchema, outputSchemaSchema, type JsonSchemaObject } from './output-schema.js';
import { DEFAULTS, type BUILT_IN_PROVIDERS } from './defaults.js';

/**
 * The longest duration in seconds Nightshift waits for in one timer: 2^31 − 1 ms (about 24.8
 * days). Node.js fires a longer timer at once, so every timeout and delay is held under it.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** The longest `interval`: ten years (the scheduler waits for it in steps under the timer limit). */
const MAX_INTERVAL_SECONDS = 10 * 366 * 86_400;
/** The shortest `interval`: fire times are whole milliseconds. */
const MIN_INTERVAL_SECONDS = 0.001;

const tooLong = `must be at most ${MAX_TIMER_SECONDS} seconds (about 24.8 days, the longest a timer waits)`;

/** A duration in seconds that a timer can wait for: greater than 0 (or at least 0). */
const duration = (minimum: 'positive' | 'zero') => {
  const number = z.number({ error: 'must be a number of seconds' });
  return (
    minimum === 'positive'
      ? number.gt(0, { error: 'must be greater than 0' })
      : number.min(0, { error: 'must be at least 0' })
  ).max(MAX_TIMER_SECONDS, { error: tooLong });
};

/**
 * A URL, or a string with `${NAME}` references that becomes one at use: stored definitions keep
 * references as written (the file loader checks the value they stand for when it loads).
 */
const urlOrReference = z.string().refine((value) => value.includes('${') || URL.canParse(value), {
  error: 'must be a URL',
});

/** An ISO 8601 date-time the scheduler reads exactly as validation does (no `Date.parse` leniency). */
const isoDate = z.string().refine((value) => parseIsoInstant(value) !== undefined, {
  error: 'must be an ISO 8601 date-time such as "2030-03-07T09:00:00Z"',
});

/** One step of a `scripted` model's plan. */
const scriptStepSchema = z.strictObject({
  /** Call this tool (with `args`) at this step. */
  tool: z.string().min(1).optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  /** Answer with this text; `{{tool_name}}` quotes that tool's latest output, `{{last}}` the latest output. */
  answer: z.string().optional(),
  /** Fail this model call with this message (to rehearse failures offline). */
  fail: z.string().optional(),
  /** Seconds to wait before replying (to rehearse slow models offline). */
  delay: duration('zero').optional(),
  /** Tokens this call reports as used (input, output); defaults to a rough count of the text. */
  usage: z
    .strictObject({ input_tokens: z.number().int().min(0), output_tokens: z.number().int().min(0) })
    .optional(),
});

/** A price in US dollars per million tokens: a number at least 0. */
const pricePerMillion = z
  .number({ error: 'must be a price in US dollars per million tokens' })
  .min(0, { error: 'must be at least 0' })
  .max(1_000_000, { error: 'must be at most 1000000' });

/** What a model costs per million tokens: input, output and (when cheaper) cached input. */
export const modelPricingSchema = z.strictObject({
  input_per_million: pricePerMillion,
  output_per_million: pricePerMillion,
  /** Input tokens read from the provider's prompt cache; default: the input price. */
  cached_input_per_million: pricePerMillion.optional(),
});

/** One window's caps: any of dollars, tokens, model requests and tool calls. */
export const budgetLimitsSchema = z
  .strictObject({
    usd: z
      .number({ error: 'must be an amount in US dollars' })
      .min(0, { error: 'must be at least 0' })
      .max(1_000_000_000, { error: 'must be at most 1000000000' })
      .optional(),
    tokens: z.number().int({ error: 'must be a whole number' }).min(0).optional(),
    requests: z.number().int({ error: 'must be a whole number' }).min(0).optional(),
    tool_calls: z.number().int({ error: 'must be a whole number' }).min(0).optional(),
  })
  .refine((limits) => Object.values(limits).some((value) => value !== undefined), {
    error: 'must cap at least one of usd, tokens, requests, tool_calls',
  });

/** Budgets by window: one run, a day, a month (days and months in the agent's `timezone`). */
export const windowBudgetsSchema = z.strictObject({
  per_run: budgetLimitsSchema.optional(),
  per_day: budgetLimitsSchema.optional(),
  per_month: budgetLimitsSchema.optional(),
});

/** A day's and a month's caps, for the fleet or a tag (UTC days and months). */
export const sharedWindowBudgetsSchema = z.strictObject({
  per_day: budgetLimitsSchema.optional(),
  per_month: budgetLimitsSchema.optional(),
});

/** A tag's name, as agents list it in `tags`. */
export const tagNameSchema = z
  .string()
  .min(1)
  .max(64, { error: 'must be at most 64 characters' })
  .regex(/^[A-Za-z0-9_.-]+$/, { error: 'may contain only letters, digits, "_", "." and "-"' });

/** An agent's budgets, held before each model request and tool call. */
export const budgetConfigSchema = windowBudgetsSchema.extend({
  /**
   * What a run does when a day's or a month's budget runs out (its own, a tag's, the fleet's):
   * `fail` ends it `budget_exceeded`; `wait` stops it in `awaiting_budget`, holding nothing,
   * until a grant or the window's reset, and it then goes on from its journal (or a person ends
   * it with `denyBudget`). A run's own budget (`per_run`) always fails: waiting cannot refill it.
   */
  on_exhausted: z.enum(['fail', 'wait'], { error: 'must be fail or wait' }).default('fail'),
});

/** Which model an agent talks to and how. */
export const modelConfigSchema = z.strictObject({
  provider: z.string().min(1, { error: 'required' }),
  model: z.string().min(1).default('scripted'),
  base_url: urlOrReference.optional(),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name' })
    .optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().gt(0).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  /** Only for `provider: scripted`: the plan the offline model follows. */
  script: z.array(scriptStepSchema).min(1).optional(),
  /** What this model costs, over the built-in price table and the file's `pricing`. */
  pricing: modelPricingSchema.optional(),
});

/** What each run does, and how attempts are bounded and retried. */
export const taskConfigSchema = z.strictObject({
  query: z.string({ error: 'required' }).min(1, { error: 'must not be empty' }),
  max_retries: z.number().int().min(0).default(DEFAULTS.task_config.max_retries),
  retry_delay: duration('zero').default(DEFAULTS.task_config.retry_delay),
  retry_backoff: z.enum(['fixed', 'exponential']).default(DEFAULTS.task_config.retry_backoff),
  max_retry_delay: duration('positive').default(DEFAULTS.task_config.max_retry_delay),
  timeout: duration('positive').default(DEFAULTS.task_config.timeout),
  session_id: z.string().min(1).optional(),
  session_policy: z.enum(['agent', 'per_run']).default(DEFAULTS.task_config.session_policy),
  /** Retry even after a tool that is not idempotent has started (it may have taken effect). */
  retry_side_effects: z.boolean().default(DEFAULTS.task_config.retry_side_effects),
  /**
   * A run whose process died: `resume` goes on from its journal (no recorded model call sent
   * again, no non-idempotent tool run twice), `restart` starts it again as a retry, `fail` ends it
   * `interrupted`.
   */
  on_interrupt: z.enum(['resume', 'restart', 'fail']).default(DEFAULTS.task_config.on_interrupt),
  /** Resumes one run may have (a run that kills its process every time ends `resume_limit`). */
  max_resumes: z.number().int().min(0).default(DEFAULTS.task_config.max_resumes),
  /**
   * A JSON Schema the final answer must satisfy: the answer must be JSON valid against it (the
   * run record keeps it parsed, `output_json`). Code may give a zod schema (kept as JSON Schema).
   */
  output_schema: outputSchemaSchema.optional(),
  /**
   * Turns asking the model to correct an answer that is not JSON or fails `output_schema`, each
   * a model call within the run's limits; still invalid, the run fails `output_invalid`.
   */
  output_repairs: outputRepairsSchema.default(DEFAULTS.task_config.output_repairs),
});

/** How much conversation history a run loads. */
const memoryConfigSchema = z.strictObject({
  mode: z.enum(['sliding_window', 'token_budget']),
  value: z.number().int().gt(0),
});

/** Hard per-run limits and memory. */
export const agentConfigSchema = z.strictObject({
  max_steps: z.number().int().gt(0).default(DEFAULTS.agent_config.max_steps),
  tool_call_timeout: duration('positive').default(DEFAULTS.agent_config.tool_call_timeout),
  request_limit: z.number().int().min(0).default(DEFAULTS.agent_config.request_limit),
  total_tokens_limit: z.number().int().min(0).default(DEFAULTS.agent_config.total_tokens_limit),
  memory_config: memoryConfigSchema.default({ ...DEFAULTS.agent_config.memory_config }),
  /** Tool calls a person must approve before they run (the run waits in `awaiting_approval`). */
  approvals: z.array(approvalRuleSchema).default([]),
  /**
   * Checks on what reaches the model (query, tool results) and what leaves it (tool arguments,
   * the answer): sizes, deny patterns, a prompt-injection screen, functions registered in code.
   */
  guardrails: guardrailsSchema.optional(),
});

/** An MCP server an agent may use (seed shape). */
export const mcpServerSchema = z.strictObject({
  name: z.string().min(1),
  transport_type: z.enum(['stdio', 'streamable_http', 'sse']).default('stdio'),
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  url: urlOrReference.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout: duration('positive').optional(),
  tool_prefix: z.string().optional(),
});

const agentFields = {
  agent_id: z
    .string({ error: 'required' })
    .min(1, { error: 'required' })
    .max(128, { error: 'must be at most 128 characters' })
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'may contain only letters, digits, "_" and "-"' }),
  system_instruction: z.string().default(DEFAULTS.system_instruction),
  model_config: modelConfigSchema,
  interval: z
    .number({ error: 'must be a number of seconds' })
    .min(MIN_INTERVAL_SECONDS, { error: `must be at least ${MIN_INTERVAL_SECONDS} seconds` })
    .max(MAX_INTERVAL_SECONDS, {
      error: `must be at most ${MAX_INTERVAL_SECONDS} seconds (ten years)`,
    })
    .optional(),
  cron: z.string().min(1).optional(),
  timezone: z
    .string()
    .refine(isValidTimezone, { error: 'must be an IANA time zone such as "Europe/Paris"' })
    .optional(),
  run_at: isoDate.optional(),
  start_at: isoDate.optional(),
  end_at: isoDate.optional(),
  max_runs: z.number().int().gt(0).optional(),
  jitter: duration('zero').default(DEFAULTS.jitter),
  run_immediately: z.boolean().default(DEFAULTS.run_immediately),
  misfire_policy: z.enum(['skip', 'run_once']).default(DEFAULTS.misfire_policy),
  misfire_grace: z
    .number()
    .gt(0, { error: 'must be greater than 0' })
    .max(MAX_INTERVAL_SECONDS, { error: `must be at most ${MAX_INTERVAL_SECONDS} seconds` })
    .default(DEFAULTS.misfire_grace),
  overlap_policy: z
    .enum(['skip', 'queue_one', 'cancel_previous', 'allow'])
    .default(DEFAULTS.overlap_policy),
  auto_pause_after_failures: z.number().int().gt(0).optional(),
  task_config: taskConfigSchema,
  agent_config: agentConfigSchema.default(() => agentConfigSchema.parse({})),
  tools: z.array(z.string().min(1)).default([]),
  /** Labels grouping agents; a budget per tag (the file's `budgets.tags`) caps them together. */
  tags: z.array(tagNameSchema).default([]),
  /** Spend caps per run, day and month; `request_limit` and `total_tokens_limit` still cap a run. */
  budget_config: budgetConfigSchema.optional(),
  /** How long its runs, events and messages are kept, over the file's `retention:` defaults. */
  retention: retentionSchema.optional(),
  /** Hosts, IPs or CIDRs the network tools may reach even though they are private or loopback. */
  allow_hosts: z.array(allowHostEntrySchema).default([]),
  mcp_tools: z.array(mcpServerSchema).default([]),
};

/** The zod schema of one agent definition (without cross-field checks). */
export const agentObjectSchema = z.strictObject(agentFields);

/** The zod schema of one agent definition, with its cross-field rules. */
export const agentDefinitionSchema = agentObjectSchema.superRefine((agent, context) => {
  const kinds = (['interval', 'cron', 'run_at'] as const).filter((key) => agent[key] !== undefined);
  if (kinds.length !== 1) {
    context.addIssue({
      code: 'custom',
      path: kinds.length === 0 ? ['interval'] : [kinds[1] ?? 'interval'],
      message:
        kinds.length === 0
          ? 'one of interval, cron or run_at is required'
          : `only one of interval, cron or run_at may be set (got ${kinds.join(', ')})`,
    });
  }
  const cronProblem =
    agent.cron === undefined ? undefined : cronPatternProblem(agent.cron, agent.timezone);
  if (cronProblem) context.addIssue({ code: 'custom', path: ['cron'], message: cronProblem });
  // A zone also says where an agent's budget days and months begin.
  const strayTimezone =
    agent.timezone !== undefined && agent.cron === undefined && agent.budget_config === undefined;
  if (strayTimezone) {
    context.addIssue({
      code: 'custom',
      path: ['timezone'],
      message: 'only applies with cron or budget_config',
    });
  }
  if (kinds.length === 1 && !cronProblem && !strayTimezone && scheduleFieldsReadable(agent)) {
    const problem = scheduleProblem(agent);
    if (problem)
      context.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  }
  const serverNames = new Set<string>();
  agent.mcp_tools.forEach((server, index) => {
    if (serverNames.has(server.name)) {
      context.addIssue({
        code: 'custom',
        path: ['mcp_tools', index, 'name'],
        message: `duplicate server name "${server.name}"`,
      });
    }
    serverNames.add(server.name);
    if (server.transport_type === 'stdio' && !server.command) {
      context.addIssue({
        code: 'custom',
        path: ['mcp_tools', index, 'command'],
        message: 'required for the stdio transport',
      });
    }
    if (server.transport_type !== 'stdio' && !server.url) {
      context.addIssue({
        code: 'custom',
        path: ['mcp_tools', index, 'url'],
        message: `required for the ${server.transport_type} transport`,
      });
    }
  });
  if (agent.model_config.provider === 'openai_compatible' && !agent.model_config.base_url) {
    context.addIssue({
      code: 'custom',
      path: ['model_config', 'base_url'],
      message: 'required for the openai_compatible provider',
    });
  }
  if (agent.model_config.provider === 'scripted' && !agent.model_config.script) {
    context.addIssue({
      code: 'custom',
      path: ['model_config', 'script'],
      message: 'required for the scripted provider',
    });
  }
});

/** Whether each schedule key passed its own check (zod runs refinements after failed fields too). */
function scheduleFieldsReadable(agent: {
  interval?: unknown;
  run_at?: unknown;
  start_at?: unknown;
  end_at?: unknown;
}): boolean {
  const { interval } = agent;
  const intervalReadable =
    interval === undefined ||
    (typeof interval === 'number' &&
      interval >= MIN_INTERVAL_SECONDS &&
      interval <= MAX_INTERVAL_SECONDS);
  return (
    intervalReadable &&
    [agent.run_at, agent.start_at, agent.end_at].every(
      (value) => value === undefined || (typeof value === 'string' && !!parseIsoInstant(value)),
    )
  );
}

/**
 * Why the scheduler could not run these schedule keys, or undefined: validation builds the very
 * schedule the scheduler will, so it accepts exactly what can run.
 */
function scheduleProblem(
  definition: Parameters<typeof scheduleSpecOf>[0],
): { field: string; message: string } | undefined {
  try {
    const anchor = new Date();
    const schedule = createSchedule(scheduleSpecOf(definition), { anchor });
    schedule.next(anchor);
    return undefined;
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const separator = text.indexOf(': ');
    return separator > 0
      ? { field: text.slice(0, separator), message: text.slice(separator + 2) }
      : { field: 'interval', message: text };
  }
}

/** A provider Nightshift knows without registration. */
export type BuiltInProvider = (typeof BUILT_IN_PROVIDERS)[number];

type WrittenDefinition = z.input<typeof agentDefinitionSchema>;

/**
 * An agent definition as written by a user (defaults may be left out). `provider` is one of
 * the built-in names, or the name of a provider registered in code (any other string).
 */
export type AgentDefinitionInput = Omit<WrittenDefinition, 'model_config' | 'task_config'> & {
  model_config: Omit<WrittenDefinition['model_config'], 'provider'> & {
    provider: BuiltInProvider | (string & NonNullable<unknown>);
  };
  task_config: Omit<WrittenDefinition['task_config'], 'output_schema'> & {
    /** JSON Schema, or (in code) a zod schema, stored as its JSON Schema. */
    output_schema?: JsonSchemaObject | z.ZodType;
  };
};

/** Each key optional, and `null` to remove it (back to its default). */
type Removable<T> = { [K in keyof T]?: T[K] | null };

/**
 * A change to a stored definition (`updateAgent`): keys left out stay, `null` removes a key,
 * nested configs merge key by key, lists are replaced, and setting one of interval / cron /
 * run_at replaces the others.
 */
export type AgentDefinitionPatch = Omit<
  Removable<AgentDefinitionInput>,
  'agent_id' | 'model_config' | 'task_config' | 'agent_config'
> & {
  /** Only the agent's own id (it cannot be changed). */
  agent_id?: string;
  model_config?: Removable<AgentDefinitionInput['model_config']>;
  task_config?: Removable<AgentDefinitionInput['task_config']>;
  agent_config?: Removable<NonNullable<AgentDefinitionInput['agent_config']>>;
};
/** A validated agent definition with every default filled in. */
export type AgentDefinition = z.output<typeof agentDefinitionSchema>;
/** A model configuration with defaults filled in. */
export type ModelConfig = AgentDefinition['model_config'];
/** One step of a scripted model's plan. */
export type ScriptStep = z.output<typeof scriptStepSchema>;
/** Task configuration with defaults filled in. */
export type TaskConfig = AgentDefinition['task_config'];
/** Limits and memory with defaults filled in. */
export type AgentLimits = AgentDefinition['agent_config'];
/** Memory strategy of an agent. */
export type MemoryConfig = AgentLimits['memory_config'];
/** An MCP server declaration. */
export type McpServerConfig = AgentDefinition['mcp_tools'][number];
