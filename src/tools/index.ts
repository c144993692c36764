export { BUILT_IN_TOOLS } from './built-in/index.js';
export { systemStatsTool } from './built-in/system-stats.js';
export type { JsonSchemaObject, ToolDefinition, ToolExecutionContext } from './tool-definition.js';
export { ToolRegistry } from './tool-registry.js';
export * from './mcp/index.js';
