import { NightshiftError, type FieldError } from '../errors.js';
import { agentDefinitionSchema, type AgentDefinition } from './agent-definition.js';
import { BUILT_IN_PROVIDERS, DEFAULTS } from './defaults.js';
import {
  describeFields,
  formatPath,
  issuesToFieldErrors,
  requiredErrorMap,
} from './format-issues.js';

/** What a definition is checked against beyond its own shape. */
export interface DefinitionContext {
  /** Names of providers registered in code, in addition to the built-in ones. */
  providers?: readonly string[];
  /** Names of tools an agent may list. When omitted, tool names are not checked. */
  tools?: readonly string[];
  /** Environment used to check that API keys are present. Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Path prefix for error messages, such as `['agents', 2]`. */
  path?: readonly PropertyKey[];
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
  const raw = input as { model_config?: unknown; tools?: unknown };
  const at = (...path: PropertyKey[]) => formatPath([...(context.path ?? []), ...path]);
  const registered = context.providers ?? [];
  const providers = new Set<string>([...BUILT_IN_PROVIDERS, ...registered]);
  const modelConfig = raw.model_config as AgentDefinition['model_config'] | undefined;
  const provider = typeof modelConfig?.provider === 'string' ? modelConfig.provider : undefined;
  if (provider !== undefined && provider !== '' && !providers.has(provider)) {
    fields.push({
      path: at('model_config', 'provider'),
      message: `unknown provider "${provider}" (known: ${[...providers].join(', ')})`,
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
          message: `unknown tool "${name}" (registered: ${[...known].join(', ') || 'none'})`,
        });
      }
    });
  }
  return fields;
}

/** Validates a definition and returns its field errors (empty when valid) and the parsed value. */
export function checkAgentDefinition(
  input: unknown,
  context: DefinitionContext = {},
): { definition?: AgentDefinition; fields: FieldError[] } {
  const parsed = agentDefinitionSchema.safeParse(input, { error: requiredErrorMap });
  const fields = [
    ...(parsed.success ? [] : issuesToFieldErrors(parsed.error.issues, context.path ?? [])),
    ...contextFieldErrors(input, context),
  ];
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
