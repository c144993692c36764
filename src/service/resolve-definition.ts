import type { AgentDefinition } from '../config/agent-definition.js';
import { envReferenceNames } from '../config/env-references.js';
import { describeFields } from '../config/format-issues.js';
import { interpolateEnv } from '../config/interpolate-env.js';
import { SECRET_NAME } from '../config/secret-name.js';
import { NightshiftError } from '../errors.js';

/** A definition as a run uses it, and the values it read that must stay secret. */
export interface ResolvedDefinition {
  definition: AgentDefinition;
  /** Values of the variables read whose names say they are secrets (`*_KEY`, `*TOKEN*`, …). */
  secrets: string[];
}

/**
 * The stored definition with its `${NAME}` references read from `env`, as a run uses it: stored
 * definitions keep references as written (promise 8), so values are read only here, at use. MCP
 * servers are left as they are: they resolve their own references when they connect. Throws
 * `config_invalid` naming the field and the variable (never a value) when one is unset.
 */
export function resolveDefinition(
  definition: AgentDefinition,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedDefinition {
  const { mcp_tools: mcpTools, ...rest } = definition;
  const references = envReferenceNames(rest);
  if (references.length === 0) return { definition, secrets: [] };
  const resolved = interpolateEnv(rest, { env });
  if (resolved.fields.length > 0) {
    throw new NightshiftError(
      'config_invalid',
      `agent "${definition.agent_id}": ${describeFields(resolved.fields)}`,
      { fields: resolved.fields, details: { agent_id: definition.agent_id } },
    );
  }
  const secrets = references.flatMap(({ name }) => {
    const value = env[name];
    return SECRET_NAME.test(name) && value ? [value] : [];
  });
  return { definition: { ...resolved.value, mcp_tools: mcpTools }, secrets };
}
