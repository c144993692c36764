import {
  BUILT_IN_TOOLS,
  createFileWriteTool,
  createNotifyTool,
  createSqlTools,
  createSystemStatsTool,
  ToolRegistry,
  type SqlTools,
  type ToolDefinition,
} from '../tools/index.js';
import type { Redactor } from './redactor.js';
import type { ToolSettings } from './service-options.js';

/** The tools a service offers its agents, and the SQL connections it must close. */
export interface ServiceTools {
  registry: ToolRegistry;
  sqlTools: SqlTools | undefined;
}

/**
 * The built-in tools, those whose settings are given (their webhook and connection URLs become
 * secrets), then the caller's own tools, in that order: a later one of a name replaces an earlier.
 */
export function createServiceTools(
  settings: ToolSettings,
  tools: Record<string, ToolDefinition<never>>,
  redactor: Redactor,
): ServiceTools {
  const registry = new ToolRegistry();
  for (const [name, definition] of Object.entries(BUILT_IN_TOOLS)) {
    // A configured system_stats replaces the default one.
    if (name === 'system_stats' && settings.system_stats) continue;
    registry.register(name, definition);
  }
  if (settings.system_stats)
    registry.register(
      'system_stats',
      createSystemStatsTool(settings.system_stats) as ToolDefinition<never>,
    );
  if (settings.files)
    registry.register('file_write', createFileWriteTool(settings.files) as ToolDefinition<never>);
  if (settings.webhooks && Object.keys(settings.webhooks).length > 0) {
    for (const url of Object.values(settings.webhooks)) redactor.add(url);
    registry.register(
      'notify',
      createNotifyTool({ webhooks: settings.webhooks }) as ToolDefinition<never>,
    );
  }
  let sqlTools: SqlTools | undefined;
  if (settings.connections && Object.keys(settings.connections).length > 0) {
    for (const url of Object.values(settings.connections)) redactor.add(url);
    sqlTools = createSqlTools({
      connections: settings.connections,
      ...(settings.archive_directory ? { archive_directory: settings.archive_directory } : {}),
    });
    registry.register('sql_query', sqlTools.tools.sql_query as ToolDefinition<never>);
    registry.register('sql_archive', sqlTools.tools.sql_archive as ToolDefinition<never>);
  }
  for (const [name, definition] of Object.entries(tools)) registry.register(name, definition);
  return { registry, sqlTools };
}
