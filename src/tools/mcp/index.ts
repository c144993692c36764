export { checkMcpServer, type McpServerCheck } from './check-mcp-server.js';
export {
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  McpConnection,
  type McpConnectionOptions,
  type McpConnectionState,
} from './mcp-connection.js';
export { McpToolManager, type McpToolManagerOptions } from './mcp-tool-manager.js';
