import type { McpServerConfig } from '../../config/agent-definition.js';
import { NightshiftError } from '../../errors.js';
import type { ToolDefinition } from '../tool-definition.js';
import { checkTransportConfig } from './create-mcp-transport.js';
import { McpConnection, type McpConnectionOptions } from './mcp-connection.js';

/** Options of {@link McpToolManager}. */
export interface McpToolManagerOptions {
  /** Names of the agent's other (non-MCP) tools, which an MCP tool may not shadow. */
  existingToolNames?: Iterable<string>;
  /** The clock, in epoch milliseconds, for the reconnect backoff. Default `Date.now`. */
  now?: () => number;
  /** Where `${NAME}` references in the servers' `env` and `headers` are read from. Default `process.env`. */
  env?: McpConnectionOptions['env'];
  /** Told each value those references (and literal values) resolved to: see {@link McpConnectionOptions.onSecret}. */
  onSecret?: McpConnectionOptions['onSecret'];
}

/** Where a tool name came from, to name both sides of a collision. */
type Owner = { kind: 'agent' } | { kind: 'server'; index: number };

function serverField(index: number): string {
  return `mcp_tools[${index}]`;
}

/** A prefix that would tell a server's tools apart: its name, made a valid tool-name start. */
function suggestedPrefix(server: McpServerConfig): string {
  return `${server.name.replace(/[^A-Za-z0-9_-]/g, '_')}_`;
}

/**
 * The MCP tools of one agent: one {@link McpConnection} per entry of its `mcp_tools`, connected
 * together, their tools merged into one map with every name unique. Made when the agent starts,
 * reused by all its runs (connections reconnect on their own when a server dies), closed when
 * the agent stops or is deleted, or the service shuts down.
 */
export class McpToolManager {
  readonly #servers: readonly McpServerConfig[];
  readonly #existing: ReadonlySet<string>;
  /** What every connection is given besides its field path. */
  readonly #connectionOptions: Omit<McpConnectionOptions, 'fieldPath'>;
  /** The connections of the current (or last successful) connect. */
  #connections: McpConnection[] = [];
  #tools: Map<string, ToolDefinition> | undefined;
  #connecting: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  /** Checks the configs (names unique, `command` or `url` present); connects nothing yet. */
  constructor(servers: readonly McpServerConfig[], options: McpToolManagerOptions = {}) {
    this.#servers = [...servers];
    this.#existing = new Set(options.existingToolNames ?? []);
    this.#connectionOptions = {
      ...(options.now ? { now: options.now } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.onSecret ? { onSecret: options.onSecret } : {}),
    };
    this.#checkServerNames();
    this.#servers.forEach((server, index) => checkTransportConfig(server, serverField(index)));
  }

  /**
   * Connects every server in parallel and builds the tool map. All or nothing: when a server
   * fails (a `tool_error` naming it) or two tools share a name (`config_invalid`), every server
   * is disconnected again, and a later call tries afresh. A no-op once connected.
   */
  connect(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new NightshiftError('invalid_state', 'the MCP tools were closed'));
    }
    if (this.#tools) return Promise.resolve();
    this.#connecting ??= this.#connectAll().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** The agent's MCP tools by name; `connect()` must have succeeded. */
  tools(): Map<string, ToolDefinition> {
    if (!this.#tools) {
      throw new NightshiftError('invalid_state', 'the MCP tools are not connected: call connect()');
    }
    return new Map(this.#tools);
  }

  /** Disconnects every server (ending their processes or HTTP sessions), also mid-connect. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#tools = undefined;
      // Closing the connections first cuts short a connect in progress instead of waiting it out.
      await Promise.all(this.#connections.map((connection) => connection.close()));
      await this.#connecting?.catch(() => undefined);
    })();
    return this.#closed;
  }

  #checkServerNames(): void {
    const seen = new Map<string, number>();
    this.#servers.forEach((server, index) => {
      const earlier = seen.get(server.name);
      if (earlier !== undefined) {
        const message = `"${server.name}" is already the name of ${serverField(earlier)}`;
        throw new NightshiftError('config_invalid', `${serverField(index)}.name: ${message}`, {
          fields: [{ path: `${serverField(index)}.name`, message }],
        });
      }
      seen.set(server.name, index);
    });
  }

  async #connectAll(): Promise<void> {
    const connections = this.#servers.map(
      (server, index) =>
        new McpConnection(server, { ...this.#connectionOptions, fieldPath: serverField(index) }),
    );
    this.#connections = connections;
    const listed = await Promise.allSettled(
      connections.map(async (connection) => {
        await connection.connect();
        return connection.listTools();
      }),
    );
    try {
      const failure = listed.find((outcome) => outcome.status === 'rejected');
      if (failure) throw failure.reason;
      if (this.#closed) throw new NightshiftError('invalid_state', 'the MCP tools were closed');
      this.#tools = this.#merge(
        listed.map(
          (outcome) => (outcome as PromiseFulfilledResult<Map<string, ToolDefinition>>).value,
        ),
      );
    } catch (error) {
      await Promise.all(connections.map((connection) => connection.close()));
      throw error;
    }
  }

  #merge(perServer: Map<string, ToolDefinition>[]): Map<string, ToolDefinition> {
    const tools = new Map<string, ToolDefinition>();
    const owners = new Map<string, Owner>();
    for (const name of this.#existing) owners.set(name, { kind: 'agent' });
    perServer.forEach((serverTools, index) => {
      for (const [name, definition] of serverTools) {
        const owner = owners.get(name);
        if (owner) throw this.#collision(name, index, owner);
        owners.set(name, { kind: 'server', index });
        tools.set(name, definition);
      }
    });
    return tools;
  }

  #collision(name: string, index: number, owner: Owner): NightshiftError {
    const server = this.#servers[index] as McpServerConfig;
    const here = `MCP server "${server.name}" (${serverField(index)})`;
    const clash =
      owner.kind === 'agent'
        ? `${here} offers a tool named "${name}", which the agent already has`
        : `MCP servers "${this.#servers[owner.index]?.name}" (${serverField(owner.index)}) and "${server.name}" (${serverField(index)}) both offer a tool named "${name}"`;
    const path = `${serverField(index)}.tool_prefix`;
    const advice = `set ${path} (for example "${suggestedPrefix(server)}") to tell them apart`;
    return new NightshiftError('config_invalid', `${clash}; ${advice}`, {
      fields: [{ path, message: `tool "${name}" collides: ${advice}` }],
    });
  }
}
