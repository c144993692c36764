import type { AgentDefinition } from './agent-definition.js';

/**
 * `definition` (validated on its interpolated values, defaults filled in) with the strings that
 * were written with `${…}` references put back as written, in the fields where text, addresses
 * and credentials go: `system_instruction`, `task_config.query`, `model_config.model` and
 * `base_url`, and every field of `mcp_tools`. A stored definition then holds `${NAME}`, never
 * the value it stood for (promise 8); the service resolves it at use, from its own environment.
 * The fields that name and schedule the agent (`agent_id`, `cron`, `run_at`, …) are read at load.
 * Never mutates either argument.
 */
export function keepReferencesAsWritten(
  definition: AgentDefinition,
  written: unknown,
): AgentDefinition {
  if (!isRecord(written)) return definition;
  const model = isRecord(written.model_config) ? written.model_config : {};
  const task = isRecord(written.task_config) ? written.task_config : {};
  return {
    ...definition,
    system_instruction: restore(definition.system_instruction, written.system_instruction),
    model_config: {
      ...definition.model_config,
      model: restore(definition.model_config.model, model.model),
      ...(definition.model_config.base_url === undefined
        ? {}
        : { base_url: restore(definition.model_config.base_url, model.base_url) }),
    },
    task_config: {
      ...definition.task_config,
      query: restore(definition.task_config.query, task.query),
    },
    mcp_tools: restore(definition.mcp_tools, written.mcp_tools),
  };
}

/** `parsed` with every string written with a reference put back as written, at the same path. */
function restore<T>(parsed: T, written: unknown): T {
  if (typeof written === 'string') {
    return typeof parsed === 'string' && written.includes('${') ? (written as T) : parsed;
  }
  if (Array.isArray(written) && Array.isArray(parsed)) {
    return parsed.map((item: unknown, index) => restore(item, written[index])) as T;
  }
  if (isRecord(written) && isRecord(parsed)) {
    const result: Record<string, unknown> = { ...parsed };
    for (const [key, value] of Object.entries(written)) {
      if (key in result) result[key] = restore(result[key], value);
    }
    return result as T;
  }
  return parsed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
