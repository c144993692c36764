import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../../config/agent-definition.js';
import { describeFields } from '../../config/format-issues.js';
import { errorMessage, NightshiftError } from '../../errors.js';
import { backoffDelayMs } from '../../shared/backoff.js';
import { secretHider } from '../../shared/redaction.js';
import type { ToolDefinition } from '../tool-definition.js';
import { isLinkFailure, isUndelivered } from './call-failure.js';
import {
  checkTransportConfig,
  createMcpTransport,
  type McpTransportHandle,
} from './create-mcp-transport.js';
import {
  isModelToolName,
  isPlainCallable,
  mcpToolDefinition,
  mcpToolName,
} from './mcp-tool-definition.js';
import { mcpSdk, type McpSdk } from './mcp-sdk.js';
import { mcpToolOutput } from './mcp-tool-result.js';
import { DeadlineExceeded, raceDeadline } from './race-deadline.js';

/** Seconds a server may take to start and answer, when its config sets no `timeout`. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 30;
/** How this client introduces itself to servers. */
const CLIENT_INFO = { name: 'nightshift', version: '0.1.0' };
/**
 * The SDK gives up on a request after 60 s unless told otherwise, which would cut tools shorter
 * than `tool_call_timeout`. The caller's abort signal bounds a call instead; this is the longest
 * delay a Node timer takes.
 */
const NO_REQUEST_TIMEOUT = 2_147_483_647;
/** Reconnect backoff: the first retry waits this long, doubling up to the maximum. */
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 60_000;
/** How long a clean close waits for an HTTP server to end its session. */
const SESSION_END_TIMEOUT_MS = 2_000;

/** Where a connection is in its life. `disconnected`: it was up (or tried) and will reconnect on the next use. */
export type McpConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Options of {@link McpConnection}. */
export interface McpConnectionOptions {
  /** Where the config sits in an agent definition, for error messages. Default `mcp_tools`. */
  fieldPath?: string;
  /** The clock, in epoch milliseconds, for the reconnect backoff. Default `Date.now`. */
  now?: () => number;
  /**
   * Where `${NAME}` references in the config's `env` and `headers` are read from, at each
   * connect. Default `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Told each value (or part of one, such as the token of `Bearer <token>`) that the `env` and
   * `headers` resolved to, before the server is started, so the caller can keep it out of what
   * it writes: tool results are not redacted here, only this connection's own errors.
   */
  onSecret?: (value: string) => void;
}

/** One live link to a server: the SDK client and the transport under it. */
interface Session {
  client: Client;
  handle: McpTransportHandle;
  /** The SDK the session was made with. */
  sdk: McpSdk;
}

function inputArguments(input: unknown): Record<string, unknown> {
  return input !== null && typeof input === 'object' && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : {};
}

/** Why a start failed, in words: spawn errors carry a code that says more than their message. */
function startFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return `could not start: command not found (${errorMessage(error)})`;
  if (code === 'EACCES') return `could not start: permission denied (${errorMessage(error)})`;
  const sdk = mcpSdk.loaded();
  if (
    sdk &&
    error instanceof sdk.McpError &&
    error.code === Number(sdk.ErrorCode.ConnectionClosed)
  ) {
    return 'closed the connection before answering';
  }
  const cause = (error as { cause?: unknown } | null)?.cause;
  const detail = cause === undefined ? '' : ` (${errorMessage(cause)})`;
  return `could not be reached: ${errorMessage(error)}${detail}`;
}

/**
 * A connection to one MCP server, as its config describes it. It connects on first use (or
 * `connect()`), exposes the server's tools as Nightshift tools, and outlives the server: when the
 * server dies, the next call reconnects, with growing pauses between attempts while the server
 * stays unreachable. One connection serves every run of an agent, concurrently. References in
 * its `env` and `headers` (`${GITHUB_TOKEN}`) are resolved at each connect, from `options.env`.
 */
export class McpConnection {
  /** The server's `name` from the config. */
  readonly name: string;
  readonly #config: McpServerConfig;
  readonly #fieldPath: string;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #onSecret: ((value: string) => void) | undefined;
  /** What the `env` and `headers` resolved to, at any connect: blanked out of errors. */
  readonly #secrets = new Set<string>();
  /** Aborted by `close()`, to give up on a connect in progress. */
  readonly #closing = new AbortController();
  /** Background teardowns of lost sessions, which `close()` waits for. */
  readonly #teardowns = new Set<Promise<void>>();
  #session: Session | undefined;
  #connecting: Promise<Session> | undefined;
  #closed: Promise<void> | undefined;
  #attempted = false;
  #failures = 0;
  #retryAt = 0;
  #lastError: string | undefined;
  #serverInfo: { name: string; version: string } | undefined;

  /** Checks the config (`config_invalid` without `command` or `url`); connects nothing yet. */
  constructor(config: McpServerConfig, options: McpConnectionOptions = {}) {
    this.#fieldPath = options.fieldPath ?? 'mcp_tools';
    checkTransportConfig(config, this.#fieldPath);
    this.name = config.name;
    this.#config = config;
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = (config.timeout ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000;
    this.#env = options.env ?? process.env;
    this.#onSecret = options.onSecret;
  }

  /** Where the connection is in its life. */
  get state(): McpConnectionState {
    if (this.#closed) return 'closed';
    if (this.#session) return 'connected';
    if (this.#connecting) return 'connecting';
    return this.#attempted ? 'disconnected' : 'idle';
  }

  /** The server's process id (stdio transport), while connected. */
  get processId(): number | undefined {
    return this.#session?.handle.processId();
  }

  /** The server's own name and version, from its last handshake. */
  get serverInfo(): { name: string; version: string } | undefined {
    return this.#serverInfo;
  }

  /** Connects now (a no-op when connected); rejects with a `tool_error` naming the server and the cause. */
  async connect(): Promise<void> {
    await this.#connected();
  }

  /**
   * The server's tools as Nightshift tools, keyed by `tool_prefix + name`. The definitions call
   * through this connection, so they keep working across reconnects. Tools the server runs only
   * as tasks are left out: a plain call cannot use them.
   */
  async listTools(): Promise<Map<string, ToolDefinition>> {
    const session = await this.#connected();
    const listed: Tool[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await session.client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: this.#timeoutMs,
        });
        listed.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    } catch (error) {
      throw this.#error(`could not list its tools: ${errorMessage(error)}`, error);
    }
    const tools = new Map<string, ToolDefinition>();
    const origins = new Map<string, string>();
    for (const tool of listed.filter(isPlainCallable)) {
      const name = mcpToolName(this.#config.tool_prefix, tool.name);
      this.#checkToolName(name, tool.name, origins.get(name));
      origins.set(name, tool.name);
      tools.set(
        name,
        mcpToolDefinition(tool, (input, abortSignal) =>
          this.callTool(tool.name, input, abortSignal),
        ),
      );
    }
    return tools;
  }

  /**
   * Calls a tool by its MCP name. Aborting the signal cancels the request (the SDK sends
   * `notifications/cancelled`) and rejects with the signal's reason. A request the server never
   * received (its HTTP session was gone, nothing listened) is sent again once on a fresh
   * connection; one that may have run is not, since running a tool twice may do harm.
   */
  async callTool(name: string, input: unknown, abortSignal: AbortSignal): Promise<unknown> {
    for (let attempt = 1; ; attempt += 1) {
      abortSignal.throwIfAborted();
      const session = await this.#connected(abortSignal);
      let result;
      try {
        result = await session.client.callTool(
          { name, arguments: inputArguments(input) },
          undefined,
          { signal: abortSignal, timeout: NO_REQUEST_TIMEOUT },
        );
      } catch (error) {
        if (abortSignal.aborted) throw abortSignal.reason;
        if (isLinkFailure(error)) this.#lose(session, error);
        if (attempt === 1 && isUndelivered(error)) continue;
        throw this.#error(`tool "${name}" failed: ${errorMessage(error)}`, error);
      }
      // The default result schema parses into a `CallToolResult`; the SDK's return type also
      // admits the legacy `{ toolResult }` form, which only a compatibility schema produces.
      return mcpToolOutput(result as CallToolResult, { server: this.name, tool: name });
    }
  }

  /**
   * Ends the connection for good: stops a connect in progress, ends the HTTP session or the
   * server process (stdin closed, then SIGTERM, then SIGKILL, as the MCP spec asks). Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort(this.#error('was closed'));
      await this.#connecting?.catch(() => undefined);
      const session = this.#session;
      this.#session = undefined;
      if (session) await this.#teardown(session, 'clean');
      await Promise.all(this.#teardowns);
    })();
    return this.#closed;
  }

  #checkToolName(name: string, mcpName: string, earlier: string | undefined): void {
    const path = `${this.#fieldPath}.tool_prefix`;
    if (!isModelToolName(name)) {
      const message = `the tool name "${name}" (from "${mcpName}") is longer than the 64 characters model APIs accept`;
      throw new NightshiftError('config_invalid', `MCP server "${this.name}": ${message}`, {
        fields: [{ path, message }],
      });
    }
    if (earlier !== undefined) {
      const message = `its tools "${earlier}" and "${mcpName}" both become "${name}" (model APIs allow only letters, digits, "_" and "-")`;
      throw new NightshiftError('config_invalid', `MCP server "${this.name}": ${message}`, {
        fields: [{ path, message }],
      });
    }
  }

  /** A `tool_error` about this server, with secrets blanked out. */
  #error(what: string, cause?: unknown): NightshiftError {
    const hide = secretHider(this.#secrets);
    return new NightshiftError('tool_error', hide(`MCP server "${this.name}" ${what}`), {
      ...(cause === undefined ? {} : { cause }),
      details: { server: this.name },
    });
  }

  /** The live session, connecting first when there is none (one attempt shared by all callers). */
  async #connected(abortSignal?: AbortSignal): Promise<Session> {
    if (this.#closed) throw this.#error('was closed');
    if (this.#session) return this.#session;
    if (!this.#connecting) {
      const attempt = this.#reconnect();
      this.#connecting = attempt;
      attempt
        .finally(() => {
          if (this.#connecting === attempt) this.#connecting = undefined;
        })
        .catch(() => undefined);
    }
    return abortSignal ? raceDeadline(this.#connecting, { signal: abortSignal }) : this.#connecting;
  }

  async #reconnect(): Promise<Session> {
    const wait = this.#retryAt - this.#now();
    if (this.#failures > 0 && wait > 0) {
      throw this.#error(
        `is unavailable (last error: ${this.#lastError ?? 'unknown'}); next reconnect attempt in ${(wait / 1000).toFixed(1)}s`,
      );
    }
    this.#attempted = true;
    try {
      const session = await this.#open();
      this.#session = session;
      this.#failures = 0;
      return session;
    } catch (error) {
      this.#failures += 1;
      this.#retryAt =
        this.#now() +
        backoffDelayMs(this.#failures, {
          firstMs: FIRST_RETRY_DELAY_MS,
          maxMs: MAX_RETRY_DELAY_MS,
        });
      throw error;
    }
  }

  /**
   * Resolves the config's references, starts the transport and does the MCP handshake, all
   * within the connect timeout.
   */
  async #open(): Promise<Session> {
    let sdk: McpSdk;
    let handle: McpTransportHandle;
    try {
      sdk = await mcpSdk.load();
      handle = createMcpTransport(this.#config, this.#fieldPath, { env: this.#env, sdk });
    } catch (error) {
      // An unset variable: the NightshiftError names the field and the variable, never a value.
      this.#lastError = NightshiftError.isInstance(error)
        ? describeFields(error.fields) || error.message
        : errorMessage(error);
      throw error;
    }
    for (const secret of handle.secrets) {
      if (this.#secrets.has(secret)) continue;
      this.#secrets.add(secret);
      this.#onSecret?.(secret);
    }
    const client = new sdk.Client(CLIENT_INFO, { capabilities: {} });
    const session: Session = { client, handle, sdk };
    try {
      await raceDeadline(client.connect(handle.transport, { timeout: this.#timeoutMs }), {
        milliseconds: this.#timeoutMs,
        signal: this.#closing.signal,
      });
    } catch (error) {
      await this.#teardown(session, 'failed');
      if (this.#closing.signal.aborted) throw this.#closing.signal.reason;
      const seconds = this.#timeoutMs / 1000;
      const what =
        error instanceof DeadlineExceeded ||
        (error instanceof sdk.McpError && error.code === Number(sdk.ErrorCode.RequestTimeout))
          ? `did not answer within ${seconds}s`
          : startFailure(error);
      const stderr = handle.stderrTail();
      this.#lastError = `${what}${stderr === '' ? '' : `; its stderr ends with: ${stderr}`}`;
      throw this.#error(`(${handle.location}) ${this.#lastError}`, error);
    }
    this.#serverInfo = client.getServerVersion();
    client.onclose = () => this.#lose(session, 'the connection closed');
    client.onerror = (error) => {
      // The SSE stream is the only way answers come back: once it breaks, so has the session.
      if (error instanceof sdk.SseError) this.#lose(session, error);
    };
    return session;
  }

  /** Forgets a session that broke; the next use reconnects. */
  #lose(session: Session, reason: unknown): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#lastError = errorMessage(reason);
    const teardown = this.#teardown(session, 'failed');
    this.#teardowns.add(teardown);
    void teardown.finally(() => this.#teardowns.delete(teardown));
  }

  /**
   * Releases a session. `clean`: the polite way (end the HTTP session; let the SDK close stdin
   * and escalate to signals). `failed`: the server is broken or never answered, so a stdio
   * server gets SIGTERM at once rather than seconds of grace it has not earned.
   */
  async #teardown(session: Session, how: 'clean' | 'failed'): Promise<void> {
    const { client, handle, sdk } = session;
    client.onclose = undefined;
    client.onerror = undefined;
    const transport = handle.transport;
    if (how === 'clean' && transport instanceof sdk.StreamableHTTPClientTransport) {
      await raceDeadline(transport.terminateSession(), {
        milliseconds: SESSION_END_TIMEOUT_MS,
      }).catch(() => undefined);
    }
    const processId = handle.processId();
    if (how === 'failed' && processId !== undefined) {
      try {
        process.kill(processId, 'SIGTERM');
      } catch {
        // Already gone: nothing to stop.
      }
    }
    await client.close().catch(() => undefined);
  }
}
