import { mcpSdk } from './mcp-sdk.js';

/** What the SDK rejects with when a request is made on a client whose transport is gone. */
const NOT_CONNECTED = 'Not connected';

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/**
 * True when a failed request provably never reached the server's tool, so sending it again on
 * a new connection cannot run the tool twice: the client had no transport, nothing accepted the
 * TCP connection, or the HTTP server turned the request away as a whole (a 4xx, such as the
 * 404 the MCP spec prescribes for an expired session).
 */
export function isUndelivered(error: unknown): boolean {
  const sdk = mcpSdk.loaded();
  if (sdk && error instanceof sdk.StreamableHTTPError) {
    const status = error.code;
    return status !== undefined && status >= 400 && status < 500;
  }
  if (error instanceof Error && error.message === NOT_CONNECTED) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return errorCode(error) === 'ECONNREFUSED' || errorCode(cause) === 'ECONNREFUSED';
}

/**
 * True when a failed request means the link to the server is broken, so the session should be
 * dropped and the next call reconnect. Not so when the server answered: a JSON-RPC error, or a
 * result that failed validation (a zod error, recognisable by its `issues`).
 */
export function isLinkFailure(error: unknown): boolean {
  const sdk = mcpSdk.loaded();
  if (sdk && error instanceof sdk.McpError) {
    return error.code === Number(sdk.ErrorCode.ConnectionClosed);
  }
  return !Array.isArray((error as { issues?: unknown } | null)?.issues);
}
