export * from './built-in/index.js';
export { assertPublicAddress, safeFetch } from './safety/index.js';
export type { JsonSchemaObject, ToolDefinition, ToolExecutionContext } from './tool-definition.js';
export { ToolRegistry } from './tool-registry.js';
export * from './mcp/index.js';
