import { lazyModule } from '../../shared/lazy-module.js';

/**
 * The parts of the MCP SDK Nightshift uses, loaded at the first connect to a server rather
 * than with the package: some 25 MB a service whose agents use no MCP server need not carry.
 */
async function importSdk() {
  const [client, sse, stdio, streamableHttp, types] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/sse.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  return {
    Client: client.Client,
    SSEClientTransport: sse.SSEClientTransport,
    SseError: sse.SseError,
    StdioClientTransport: stdio.StdioClientTransport,
    StreamableHTTPClientTransport: streamableHttp.StreamableHTTPClientTransport,
    StreamableHTTPError: streamableHttp.StreamableHTTPError,
    ErrorCode: types.ErrorCode,
    McpError: types.McpError,
  };
}

/** The SDK's classes and constants, as {@link mcpSdk} loads them. */
export type McpSdk = Awaited<ReturnType<typeof importSdk>>;

/**
 * `load()` at a connect; `loaded()` for the checks of errors (`instanceof McpError`), which
 * only an SDK already loaded can have raised.
 */
export const mcpSdk = lazyModule(importSdk);
