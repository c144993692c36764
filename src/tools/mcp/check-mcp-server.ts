import type { McpServerConfig } from '../../config/agent-definition.js';
import { McpConnection, type McpConnectionOptions } from './mcp-connection.js';

/** What {@link checkMcpServer} found. */
export interface McpServerCheck {
  /** The server's `name` from the config. */
  name: string;
  /** The server's own name and version, from its handshake. */
  server_info: { name: string; version: string } | undefined;
  /** The Nightshift names of its tools (`tool_prefix` applied), sorted. */
  tool_names: string[];
}

/**
 * Connects to one server, lists its tools and disconnects: how `nightshift validate` checks a
 * server it can reach. Rejects with `tool_error` (cannot start, no answer within `timeout`) or
 * `config_invalid` (no `command`/`url`, unusable tool names, an unset variable in `env` or
 * `headers`), naming the server. References are read from `options.env` (default `process.env`).
 */
export async function checkMcpServer(
  config: McpServerConfig,
  options: Pick<McpConnectionOptions, 'fieldPath' | 'env'> = {},
): Promise<McpServerCheck> {
  const connection = new McpConnection(config, options);
  try {
    const tools = await connection.listTools();
    return {
      name: config.name,
      server_info: connection.serverInfo,
      tool_names: [...tools.keys()].sort(),
    };
  } finally {
    await connection.close();
  }
}
