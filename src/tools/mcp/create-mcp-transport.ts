import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerConfig } from '../../config/agent-definition.js';
import { NightshiftError } from '../../errors.js';
import type { McpSdk } from './mcp-sdk.js';
import { serverSecrets } from './redact-server-secrets.js';
import { resolveServerReferences } from './resolve-server-references.js';

/** How much of a server's stderr is kept to explain a failure. */
const STDERR_TAIL_CHARACTERS = 1_000;
/** The only variables of this process a stdio server inherits: the rest may hold secrets. */
const INHERITED_VARIABLES = ['PATH', 'HOME'] as const;

/** A transport for one server, not yet started, and what to say about it when it fails. */
export interface McpTransportHandle {
  transport: Transport;
  /** Where the server is, for messages: `command "npx"` or `url http://host/mcp`. */
  location: string;
  /** The last lines the server wrote to stderr (stdio only), for error messages. */
  stderrTail(): string;
  /** The server's process id (stdio only), while it runs. */
  processId(): number | undefined;
  /** The values its `env` and `headers` resolved to (and their parts): never to be shown. */
  secrets: string[];
}

/** Options of {@link createMcpTransport}. */
export interface McpTransportOptions {
  /** Where `${NAME}` references in `env` and `headers` are read from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The SDK, loaded by the caller (see `mcp-sdk.ts`). */
  sdk: McpSdk;
}

/** The environment of a stdio server: PATH and HOME of this process, then the config's `env`. */
function serverEnvironment(env: Record<string, string> | undefined): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return { ...inherited, ...env };
}

/**
 * Throws `config_invalid` when a config lacks what its transport needs: `command` for stdio,
 * `url` for the HTTP transports. `fieldPath` is where the config sits (`mcp_tools[1]`).
 */
export function checkTransportConfig(config: McpServerConfig, fieldPath: string): void {
  const field = config.transport_type === 'stdio' ? 'command' : 'url';
  if (config[field]) return;
  const message = `required when transport_type is ${config.transport_type}`;
  throw new NightshiftError(
    'config_invalid',
    `MCP server "${config.name}": ${fieldPath}.${field} is ${message}`,
    { fields: [{ path: `${fieldPath}.${field}`, message }] },
  );
}

/** The URL without credentials or query, which may carry tokens. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Builds the SDK transport a config asks for, with the references in its `env` and `headers`
 * resolved from `options.env` now (see {@link resolveServerReferences}, which throws
 * `config_invalid` for an unset variable). A stdio server gets a minimal environment (see
 * {@link serverEnvironment}; the SDK adds its own short list of harmless variables such as USER
 * and TERM) and its stderr is captured rather than mixed into ours.
 */
export function createMcpTransport(
  written: McpServerConfig,
  fieldPath: string,
  options: McpTransportOptions,
): McpTransportHandle {
  const { SSEClientTransport, StdioClientTransport, StreamableHTTPClientTransport } = options.sdk;
  checkTransportConfig(written, fieldPath);
  const config = resolveServerReferences(written, fieldPath, options.env ?? process.env);
  const secrets = serverSecrets(config);
  if (config.transport_type === 'stdio') {
    const command = config.command as string;
    const transport = new StdioClientTransport({
      command,
      args: config.args ?? [],
      env: serverEnvironment(config.env),
      stderr: 'pipe',
    });
    let tail = '';
    // Reading the pipe also keeps a chatty server from blocking on a full stderr buffer.
    transport.stderr?.on('data', (chunk: Buffer | string) => {
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL_CHARACTERS);
    });
    return {
      transport,
      location: `command "${command}"`,
      stderrTail: () => tail.trim(),
      processId: () => transport.pid ?? undefined,
      secrets,
    };
  }
  const url = new URL(config.url as string);
  const requestInit: RequestInit = { headers: { ...config.headers } };
  const transport =
    config.transport_type === 'sse'
      ? new SSEClientTransport(url, { requestInit })
      : new StreamableHTTPClientTransport(url, { requestInit });
  return {
    transport,
    location: `url ${describeUrl(url)}`,
    stderrTail: () => '',
    processId: () => undefined,
    secrets,
  };
}
