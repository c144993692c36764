import {
  createModel,
  loadModelProvider,
  type GuardrailFunction,
  type RegisteredProvider,
} from '../agent/index.js';
import { apiKeyEnvFor } from '../config/parse-agent-definition.js';
import { errorMessage } from '../errors.js';
import type { AgentRecord } from '../storage/contracts/index.js';
import type { ToolRegistry } from '../tools/index.js';
import { McpToolManager } from '../tools/mcp/index.js';
import { limitModelRequests, type ModelRequestLimiter } from './model-request-limiter.js';
import type { Redactor } from './redactor.js';
import { resolveDefinition } from './resolve-definition.js';
import type { AgentRuntime } from './run-executor.js';
import type { ServiceLogger } from './service-options.js';

/** What building an agent's model and tools needs. */
export interface AgentRuntimesOptions {
  registry: ToolRegistry;
  providers: Record<string, RegisteredProvider>;
  env: Record<string, string | undefined>;
  fetch: typeof globalThis.fetch | undefined;
  modelRequestLimiter: ModelRequestLimiter | undefined;
  /** Learns the secrets a definition resolves to (API keys, `${NAME}` values). */
  redactor: Redactor;
  logger: ServiceLogger;
  /** The functions guardrail checks name (`agent_config.guardrails[].function`). */
  guardrails?: ReadonlyMap<string, GuardrailFunction>;
}

/**
 * The model and tools of each agent's current definition, built once per version. MCP servers
 * are connected on first use, reused across runs and versions while `mcp_tools` stays the
 * same, and closed when it changes (or the agent stops, is deleted, or the service shuts down).
 */
export class AgentRuntimes {
  readonly #options: AgentRuntimesOptions;
  readonly #runtimes = new Map<
    string,
    { version: number; runtime: AgentRuntime; mcp: McpToolManager | undefined }
  >();
  readonly #mcp = new Map<string, { key: string; manager: McpToolManager }>();

  constructor(options: AgentRuntimesOptions) {
    this.#options = options;
  }

  /** The runtime of the record's version; rejects when it cannot be had (a missing key, an MCP server down). */
  async runtimeFor(record: AgentRecord): Promise<AgentRuntime> {
    const { env, redactor, registry, modelRequestLimiter: limiter } = this.#options;
    const mcp = await this.#mcpFor(record);
    const cached = this.#runtimes.get(record.agent_id);
    if (cached && cached.version === record.version && cached.mcp === mcp) return cached.runtime;
    const { definition, secrets } = resolveDefinition(record.definition, env);
    for (const secret of secrets) redactor.add(secret);
    const keyEnv = apiKeyEnvFor(definition.model_config);
    if (keyEnv) redactor.add(env[keyEnv]);
    const local = registry.pick(definition.tools);
    // A hosted provider's package is imported now, the first time a model of it is built.
    await loadModelProvider(definition.model_config, { providers: this.#options.providers });
    const model = createModel(definition.model_config, {
      providers: this.#options.providers,
      env,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    const runtime: AgentRuntime = {
      definition,
      model: limiter
        ? limitModelRequests(model, record.definition.model_config.provider, limiter)
        : model,
      tools: mcp ? new Map([...local, ...mcp.tools()]) : local,
      ...(this.#options.guardrails ? { guardrails: this.#options.guardrails } : {}),
    };
    this.#runtimes.set(record.agent_id, { version: record.version, runtime, mcp });
    return runtime;
  }

  /** Drops an agent's cached runtime (its definition changed, or it is gone); MCP servers stay. */
  forget(agentId: string): void {
    this.#runtimes.delete(agentId);
  }

  /** Closes an agent's MCP servers, if any are open. */
  async closeMcp(agentId: string): Promise<void> {
    const entry = this.#mcp.get(agentId);
    this.#mcp.delete(agentId);
    await entry?.manager
      .close()
      .catch((error: unknown) =>
        this.#options.logger.warn(
          { err: errorMessage(error) },
          `nightshift: closing the MCP servers of ${agentId} failed`,
        ),
      );
  }

  /** Closes every agent's MCP servers. */
  async close(): Promise<void> {
    await Promise.all([...this.#mcp.keys()].map((agentId) => this.closeMcp(agentId)));
  }

  async #mcpFor(record: AgentRecord): Promise<McpToolManager | undefined> {
    const servers = record.definition.mcp_tools;
    const key = JSON.stringify(servers);
    let entry = this.#mcp.get(record.agent_id);
    if (entry && entry.key !== key) {
      await this.closeMcp(record.agent_id);
      entry = undefined;
    }
    if (servers.length === 0) return undefined;
    if (!entry) {
      entry = {
        key,
        // `env` and `headers` may hold `${NAME}` references, resolved at connect from this
        // service's env; what they resolve to is a secret from then on.
        manager: new McpToolManager(servers, {
          existingToolNames: record.definition.tools,
          env: this.#options.env,
          onSecret: (value) => this.#options.redactor.add(value),
        }),
      };
      this.#mcp.set(record.agent_id, entry);
    }
    // A no-op once connected; after a failure the next run tries again.
    await entry.manager.connect();
    return entry.manager;
  }
}
