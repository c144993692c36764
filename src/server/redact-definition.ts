import type { AgentDefinition } from '../config/agent-definition.js';

/** What a hidden value reads as. */
export const REDACTED = '***';

/**
 * The definition with credentials hidden (DESIGN promise 8): the values of MCP servers' `env`
 * and `headers`, and passwords and query values in URLs. Names stay, so a reader sees what is
 * set.
 */
export function redactDefinition(definition: AgentDefinition): AgentDefinition {
  const hide = (values: Record<string, string> | undefined) =>
    values === undefined
      ? undefined
      : Object.fromEntries(Object.keys(values).map((key) => [key, REDACTED]));
  const baseUrl = definition.model_config.base_url;
  return {
    ...definition,
    model_config: {
      ...definition.model_config,
      ...(baseUrl === undefined ? {} : { base_url: redactUrl(baseUrl) }),
    },
    mcp_tools: definition.mcp_tools.map((server) => {
      const env = hide(server.env);
      const headers = hide(server.headers);
      return {
        ...server,
        ...(env === undefined ? {} : { env }),
        ...(headers === undefined ? {} : { headers }),
        ...(server.url === undefined ? {} : { url: redactUrl(server.url) }),
      };
    }),
  };
}

/** A URL with its password and the values of its query string hidden (keys carry tokens there too). */
function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '' && url.search === '') return text;
    if (url.password !== '') url.password = REDACTED;
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, REDACTED);
    return url.toString();
  } catch {
    return text;
  }
}
