import type { z } from 'zod';
import { NightshiftError, type FieldError } from '../errors.js';
import {
  agentDefinitionSchema,
  agentObjectSchema,
  mcpServerSchema,
  modelConfigSchema,
  type AgentDefinition,
} from './agent-definition.js';
import { BUILT_IN_PROVIDERS, DEFAULTS } from './defaults.js';
import { closestName, didYouMean } from './did-you-mean.js';
import {
  describeFields,
  formatPath,
  issuesToFieldErrors,
  requiredErrorMap,
} from './format-issues.js';
import { toolPatternMatches } from './approval-rules.js';
import { withJsonOutputSchema } from './output-schema.js';
import { resolvePrice, type ModelPricing } from './pricing.js';
import { scriptPlanProblems } from './script-plan.js';
import { missingSettingHint, SETTING_TOOL_NAMES } from './tool-settings.js';

/** What a definition is checked against beyond its own shape. */
export interface DefinitionContext {
  /** Names of providers registered in code, in addition to the built-in ones. */
  providers?: readonly string[];
  /** Names of tools an agent may list. When omitted, tool names are not checked. */
  tools?: readonly string[];
  /**
   * Names of the guardrail functions registered in code (`guardrails` of the service). When
   * omitted, the names `agent_config.guardrails[].function` gives are not checked.
   */
  guardrailFunctions?: readonly string[];
  /** Environment used to check that API keys are present. Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Path prefix for error messages, such as `['agents', 2]`. */
  path?: readonly PropertyKey[];
  /** Prices by model name (the Nightshift file's `pricing:`), over the built-in table. */
  pricing?: Readonly<Record<string, ModelPricing>>;
}

/** The environment variable holding a model's API key, or undefined when none is needed. */
export function apiKeyEnvFor(modelConfig: AgentDefinition['model_config']): string | undefined {
  if (modelConfig.api_key_env) return modelConfig.api_key_env;
  const provider = modelConfig.provider;
  if (provider in DEFAULTS.api_key_env) {
    return DEFAULTS.api_key_env[provider as keyof typeof DEFAULTS.api_key_env];
  }
  return undefined;
}

/** Checks what zod cannot: providers, registered tools and API keys. Works on raw input. */
function contextFieldErrors(input: unknown, context: DefinitionContext): FieldError[] {
  const fields: FieldError[] = [];
  if (typeof input !== 'object' || input === null) return fields;
  const raw = input as { model_config?: unknown; tools?: unknown; budget_config?: unknown };
  const at = (...path: PropertyKey[]) => formatPath([...(context.path ?? []), ...path]);
  const registered = context.providers ?? [];
  const providers = new Set<string>([...BUILT_IN_PROVIDERS, ...registered]);
  const modelConfig = raw.model_config as AgentDefinition['model_config'] | undefined;
  const provider = typeof modelConfig?.provider === 'string' ? modelConfig.provider : undefined;
  if (provider !== undefined && provider !== '' && !providers.has(provider)) {
    fields.push({
      path: at('model_config', 'provider'),
      message: `unknown provider "${provider}" (known: ${[...providers].join(', ')})${didYouMean(provider, providers)}`,
    });
  } else if (provider !== undefined && modelConfig && !registered.includes(provider)) {
    const keyEnv = apiKeyEnvFor(modelConfig);
    const env = context.env ?? process.env;
    if (keyEnv && !env[keyEnv]) {
      fields.push({
        path: at('model_config', 'api_key_env'),
        message: `environment variable ${keyEnv} is not set (it holds the ${provider} API key)`,
      });
    }
  }
  if (context.tools && Array.isArray(raw.tools)) {
    const known = new Set(context.tools);
    raw.tools.forEach((name: unknown, index) => {
      if (typeof name === 'string' && !known.has(name)) {
        fields.push({
          path: at('tools', index),
          message: `unknown tool "${name}" (registered: ${[...known].join(', ') || 'none'})${toolSuggestion(name, known)}`,
        });
      }
    });
  }
  for (const problem of approvalToolProblems(raw))
    fields.push({ ...problem, path: at(...problem.path) });
  if (context.guardrailFunctions) {
    const known = new Set(context.guardrailFunctions);
    const checks = (raw as { agent_config?: { guardrails?: unknown } }).agent_config?.guardrails;
    if (Array.isArray(checks)) {
      checks.forEach((check: unknown, index) => {
        const name = (check as { function?: unknown } | null)?.function;
        if (typeof name === 'string' && !known.has(name)) {
          fields.push({
            path: at('agent_config', 'guardrails', index, 'function'),
            message: `no guardrail function "${name}" is registered (registered: ${[...known].join(', ') || 'none'}; give it in the service's \`guardrails\` option)`,
          });
        }
      });
    }
  }
  const usdProblem = unpricedBudget(raw, modelConfig, context.pricing);
  if (usdProblem) fields.push({ path: at('model_config', 'pricing'), message: usdProblem });
  if (provider === 'scripted') {
    for (const problem of scriptPlanProblems(modelConfig?.script)) {
      fields.push({
        path: at('model_config', 'script', ...problem.path),
        message: problem.message,
      });
    }
  }
  return fields;
}

/**
 * Approval rules naming tools the agent does not have: a name, or a pattern matching none of its
 * `tools`. With MCP servers, a name may be one of theirs (known only once they answer), so only
 * an agent without any is checked.
 */
function approvalToolProblems(raw: {
  tools?: unknown;
  mcp_tools?: unknown;
  agent_config?: unknown;
}): { path: PropertyKey[]; message: string }[] {
  const config = raw.agent_config as { approvals?: unknown } | undefined;
  if (!Array.isArray(config?.approvals)) return [];
  if (Array.isArray(raw.mcp_tools) && raw.mcp_tools.length > 0) return [];
  const tools = Array.isArray(raw.tools)
    ? raw.tools.filter((name): name is string => typeof name === 'string')
    : [];
  const problems: { path: PropertyKey[]; message: string }[] = [];
  config.approvals.forEach((rule: unknown, ruleIndex) => {
    const patterns = (rule as { tools?: unknown } | null)?.tools;
    if (!Array.isArray(patterns)) return;
    patterns.forEach((pattern: unknown, index) => {
      if (typeof pattern !== 'string' || pattern === '') return;
      if (tools.some((name) => toolPatternMatches(pattern, name))) return;
      problems.push({
        path: ['agent_config', 'approvals', ruleIndex, 'tools', index],
        message: `${pattern.includes('*') ? 'matches none of' : 'is not one of'} the agent's tools (${tools.join(', ') || 'none'})`,
      });
    });
  });
  return problems;
}

/** Why a budget in dollars cannot be held: the model has no price (none given, none in the table). */
function unpricedBudget(
  raw: { budget_config?: unknown },
  modelConfig: AgentDefinition['model_config'] | undefined,
  pricing: Readonly<Record<string, ModelPricing>> | undefined,
): string | undefined {
  const budgets = raw.budget_config;
  if (typeof budgets !== 'object' || budgets === null) return undefined;
  const windows = ['per_run', 'per_day', 'per_month'] as const;
  const inUsd = windows.filter((window) => {
    const limits = (budgets as Record<string, unknown>)[window];
    return typeof limits === 'object' && limits !== null && 'usd' in limits;
  });
  if (inUsd.length === 0 || typeof modelConfig?.provider !== 'string') return undefined;
  if (typeof modelConfig.model !== 'string' && modelConfig.model !== undefined) return undefined;
  const model = { ...modelConfig, model: modelConfig.model ?? '' };
  if (resolvePrice(model, pricing)) return undefined;
  return `is required: budget_config.${inUsd[0]}.usd caps spend in dollars, and the model "${model.model}" has no known price (give model_config.pricing, or a pricing: entry for it in the Nightshift file)`;
}

/**
 * `; did you mean "system_stats"?` for a tool name close to a registered one, or to one that a
 * setting of the Nightshift file would register (saying which setting, so one fix is enough).
 */
function toolSuggestion(name: string, registered: ReadonlySet<string>): string {
  const closest = closestName(name, new Set([...registered, ...SETTING_TOOL_NAMES]));
  if (closest === undefined) return '';
  const hint = registered.has(closest) ? undefined : missingSettingHint(closest);
  return `; did you mean "${closest}"?${hint === undefined ? '' : ` (${hint})`}`;
}

/** A value each field keeps when it fails its own check, so the cross-field rules still run. */
const STAND_INS: Readonly<Record<string, unknown>> = {
  agent_id: 'stand-in',
  model_config: { provider: 'stand-in' },
  task_config: { query: 'stand-in' },
  // A schedule key written but unreadable still counts as written ("only one of …").
  interval: 60,
  cron: '* * * * *',
  run_at: '2100-01-01T00:00:00Z',
  timezone: 'UTC',
};
const MODEL_STAND_INS: Readonly<Record<string, unknown>> = {
  provider: 'stand-in',
  base_url: 'https://stand-in.invalid/',
  script: [{ answer: 'stand-in' }],
};
const SERVER_STAND_INS: Readonly<Record<string, unknown>> = {
  command: 'stand-in',
  url: 'https://stand-in.invalid/',
};

/**
 * The fields of `value` that pass their own schema. A field written but failing (or required
 * and missing) takes its stand-in, when it has one: a value that passes and raises no rule.
 */
function readableFields(
  shape: Readonly<Record<string, z.ZodType>>,
  value: Record<string, unknown>,
  standIns: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const readable: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const written = value[key];
    if (written !== undefined && schema.safeParse(written).success) readable[key] = written;
    else if (key in standIns && (written !== undefined || !schema.safeParse(undefined).success)) {
      readable[key] = standIns[key];
    }
  }
  return readable;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The definition as the cross-field rules can read it although some fields fail: zod runs the
 * schema's refinement (schedule kinds, cron with its timezone, MCP transports, what a provider
 * requires) only when no field failed outright, as a wrong type or a missing value does, so
 * those problems would be reported only once the others were fixed. Here each field that passes
 * is kept, and those that fail take stand-ins that pass (see {@link readableFields}).
 */
function crossFieldView(input: Record<string, unknown>): Record<string, unknown> {
  const view = readableFields(agentObjectSchema.shape, input, STAND_INS);
  const modelConfig = input.model_config;
  if (isRecord(modelConfig) && !modelConfigSchema.safeParse(modelConfig).success) {
    view.model_config = readableFields(modelConfigSchema.shape, modelConfig, MODEL_STAND_INS);
  }
  const servers = input.mcp_tools;
  if (Array.isArray(servers) && !agentObjectSchema.shape.mcp_tools.safeParse(servers).success) {
    // Positions are kept, so a rule names the server by the index it was written at.
    view.mcp_tools = servers.map((server: unknown, index) => {
      const name = `(stand-in ${index})`;
      if (!isRecord(server)) return { name, ...SERVER_STAND_INS };
      if (mcpServerSchema.safeParse(server).success) return server;
      const readable = readableFields(mcpServerSchema.shape, server, { name, ...SERVER_STAND_INS });
      // With its transport unreadable, neither a command nor a URL can be said to be missing.
      return 'transport_type' in readable ? readable : { ...SERVER_STAND_INS, ...readable };
    });
  }
  return view;
}

/** Validates a definition and returns its field errors (empty when valid) and the parsed value. */
export function checkAgentDefinition(
  input: unknown,
  context: DefinitionContext = {},
): { definition?: AgentDefinition; fields: FieldError[] } {
  const prefix = context.path ?? [];
  input = withJsonOutputSchema(input);
  const parsed = agentDefinitionSchema.safeParse(input, { error: requiredErrorMap });
  const fields = parsed.success
    ? []
    : issuesToFieldErrors(parsed.error.issues, prefix, agentDefinitionSchema);
  if (!parsed.success && isRecord(input)) {
    // Every problem in one pass: the cross-field rules also on what failed its own checks.
    const view = agentDefinitionSchema.safeParse(crossFieldView(input), {
      error: requiredErrorMap,
    });
    const reported = new Set(fields.map((field) => `${field.path}\n${field.message}`));
    for (const field of view.success ? [] : issuesToFieldErrors(view.error.issues, prefix)) {
      if (!reported.has(`${field.path}\n${field.message}`)) fields.push(field);
    }
  }
  fields.push(...contextFieldErrors(input, context));
  return parsed.success && fields.length === 0 ? { definition: parsed.data, fields } : { fields };
}

/**
 * Validates an agent definition, filling in defaults.
 * Throws a `config_invalid` NightshiftError naming every bad field by path.
 */
export function parseAgentDefinition(
  input: unknown,
  context: DefinitionContext = {},
): AgentDefinition {
  const { definition, fields } = checkAgentDefinition(input, context);
  if (!definition) {
    throw new NightshiftError(
      'config_invalid',
      `invalid agent definition: ${describeFields(fields)}`,
      {
        fields,
      },
    );
  }
  return definition;
}
