import type { McpServerConfig } from '../../config/agent-definition.js';
import { describeFields } from '../../config/format-issues.js';
import { interpolateEnv } from '../../config/interpolate-env.js';
import { NightshiftError } from '../../errors.js';

/**
 * The config with the `${NAME}` and `${NAME:-default}` references in every field (`command`,
 * `args`, `url`, `env`, `headers`, …) read from `env` (the syntax of Nightshift files; `$${` is a literal `${`). A Nightshift file
 * keeps them as written so that stored definitions hold no secrets; they are resolved here, each
 * time the server is connected. A value without references is used as it is. Throws
 * `config_invalid` naming the server, the field and the variable, never a value, when a
 * variable without a default is unset. `fieldPath` is where the config sits (`mcp_tools[1]`).
 */
export function resolveServerReferences(
  config: McpServerConfig,
  fieldPath: string,
  env: Readonly<Record<string, string | undefined>>,
): McpServerConfig {
  const resolved = interpolateEnv(config, { env, path: [fieldPath] });
  if (resolved.fields.length > 0) {
    throw new NightshiftError(
      'config_invalid',
      `MCP server "${config.name}": ${describeFields(resolved.fields)}`,
      { fields: resolved.fields, details: { server: config.name } },
    );
  }
  return resolved.value;
}
