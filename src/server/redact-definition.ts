import type { AgentDefinition } from '../config/agent-definition.js';
import { maskUrl, REDACTED } from '../shared/redaction.js';

/**
 * The definition with credentials hidden (DESIGN promise 8): the values of MCP servers' `env`
 * and `headers`, and passwords and query values in URLs. Names stay, so a reader sees what is
 * set.
 */
export function redactDefinition(definition: AgentDefinition): AgentDefinition {
  const baseUrl = definition.model_config.base_url;
  return {
    ...definition,
    model_config: {
      ...definition.model_config,
      ...(baseUrl === undefined ? {} : { base_url: maskUrl(baseUrl, { queryValues: true }) }),
    },
    mcp_tools: definition.mcp_tools.map((server) => {
      const { env, headers, url } = server;
      return {
        ...server,
        ...(env === undefined ? {} : { env: hideValues(env) }),
        ...(headers === undefined ? {} : { headers: hideValues(headers) }),
        ...(url === undefined ? {} : { url: maskUrl(url, { queryValues: true }) }),
      };
    }),
  };
}

/** The same keys, every value hidden. */
function hideValues(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(values).map((key) => [key, REDACTED]));
}
