import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type {
  AgentDefinition,
  AgentDefinitionInput,
  AgentDefinitionPatch,
} from '../config/agent-definition.js';
import { apiKeyEnvFor, parseAgentDefinition } from '../config/parse-agent-definition.js';
import { createModel, type RegisteredProvider } from '../agent/index.js';
import { errorMessage, NightshiftError } from '../errors.js';
import type { EventRouter, MemoryRouter } from '../storage/index.js';
import {
  emptyStats,
  emptyUsage,
  isTerminal,
  type AgentRecord,
  type EventLog,
  type ListRunsOptions,
  type NightshiftEvent,
  type RunRecord,
  type RunStep,
  type Store,
} from '../storage/contracts/index.js';
import {
  BUILT_IN_TOOLS,
  createSystemStatsTool,
  createFileWriteTool,
  createNotifyTool,
  createSqlTools,
  ToolRegistry,
  type SqlTools,
  type ToolDefinition,
} from '../tools/index.js';
import { McpToolManager } from '../tools/mcp/index.js';
import { abortableSleep } from './abortable-sleep.js';
import { buildStatus, type AgentStatus } from './agent-status.js';
import { cancelRunsInStore } from './cancel-runs.js';
import { EventPublisher } from './event-publisher.js';
import { streamEvents, type StreamEventsOptions } from './event-stream.js';
import { scheduleOf } from './local-scheduler.js';
import { schedulerFactoryFor, type SchedulerSettings } from './scheduler-settings.js';
import type {
  DeliveryOutcome,
  ManualRunRequest,
  SchedulerContext,
  TickScheduler,
  TickSchedulerFactory,
  WorkerInfo,
} from './tick-scheduler.js';
import { changesSchedule, mergeDefinition } from './merge-definition.js';
import { limitModelRequests, type ModelRequestLimiter } from './model-request-limiter.js';
import { Redactor } from './redactor.js';
import { RunDispatcher } from './run-dispatcher.js';
import type { AgentRuntime, ExecutorContext } from './run-executor.js';
import { guardedStore } from './guarded-store.js';
import { manualRunId, scheduledRunId } from './run-ids.js';
import { newRunRecord } from './run-records.js';
import { resolveDefinition } from './resolve-definition.js';
import { RunTurns } from './run-turns.js';
import { StoredAgentChecker } from './stored-agent-checker.js';

/** The few log calls the service makes (a pino logger fits). */
export interface ServiceLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** Options of {@link BackgroundAgentService}; every one has a default. */
export interface BackgroundAgentServiceOptions {
  /** AI SDK providers registered in code, by the name agents use in `model_config.provider`. */
  providers?: Record<string, RegisteredProvider>;
  /** Local tools, by name (also `registerTool`). */
  tools?: Record<string, ToolDefinition<never>>;
  /**
   * Settings of the built-in tools that reach configured resources; each tool is registered only
   * when its setting is given: `file_write` (`files.directory`), `notify` (`webhooks`),
   * `sql_query` and `sql_archive` (`connections`, with `archive_directory` for JSONL archives).
   */
  toolSettings?: ToolSettings;
  /** Milliseconds a run's lease lasts without renewal; a dead process's runs are recovered after it. Default 30,000. */
  leaseTtlMs?: number;
  /** How often a manager checks for expired runs and agents changed by other processes. Default: leaseTtlMs / 2. */
  syncIntervalMs?: number;
  /** Grace for runs in flight when `shutdown()` is given no timeout, in milliseconds. Default 30,000. */
  shutdownTimeoutMs?: number;
  /** The environment API keys are read from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Replaces `fetch` for HTTP model providers. */
  fetch?: typeof globalThis.fetch;
  logger?: ServiceLogger;
  /**
   * Values to keep out of events, run records, stored conversations, status and logs (replaced
   * by `[redacted]`, whatever their length), besides the API keys agents use and environment
   * variables named like secrets (`*_KEY`, `*TOKEN*`, …; those only from 8 characters up).
   */
  secrets?: readonly string[];
  /**
   * The longest string stored (answers, tool results, messages, event payloads), in characters;
   * a longer one is cut and ends with a note of its full length. Default 100,000.
   */
  maxStoredValueChars?: number;
  /** The clock (tests). Timers still run on real time. */
  now?: () => Date;
  /**
   * Where ticks come from. Default: in-process timers (`LocalScheduler`). Many processes or
   * machines: `{ kind: 'bullmq', url }` (or `createBullmqScheduler(…)`), whose producer side
   * also serves processes that never call `startManager()`.
   */
  scheduler?: TickSchedulerFactory | SchedulerSettings;
  /** Names this process in run leases. Default: host, pid and a random suffix. */
  instanceId?: string;
  /**
   * Caps on model requests in flight per provider (`model_config.provider`): for this process
   * (`createProcessModelRequestLimiter({ openai: 8 })`) or fleet-wide
   * (`createRedisModelRequestLimiter({ url, limits })`). A request waits for a slot inside its
   * run's timeout. Closed with the service. Default: no cap.
   */
  modelRequestLimiter?: ModelRequestLimiter;
}

/** Settings of the built-in tools that need configuration (see `toolSettings`). */
export interface ToolSettings {
  /** `command_lines: true` lets `system_stats` list other processes' full command lines (they can carry secrets). */
  system_stats?: { command_lines?: boolean };
  files?: { directory: string };
  /** Webhook name → URL; the model picks a name, never a URL. */
  webhooks?: Record<string, string>;
  /** Connection name → `postgres://…` or `sqlite:` URL. */
  connections?: Record<string, string>;
  archive_directory?: string;
}

/** Options of `runNow`. */
export interface RunNowOptions {
  /** Replaces the agent's `task_config.query` for this run. */
  query?: string;
  /** Resolve when the run has ended instead of as soon as it is dispatched. */
  wait?: boolean;
}

/** How long starting a manager waits for its change feed to fix its starting point. */
const FOLLOW_START_TIMEOUT_MS = 5_000;

/** The longest pause between two looks at a run `runNow({ wait: true })` waits for in another process. */
const RUN_WAIT_POLL_MAX_MS = 250;

const silentLogger: ServiceLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Keeps a fleet of agents running on their schedules. Inspection and management work in any
 * process that shares the store; only `startManager()` makes this process run agents.
 */
export class BackgroundAgentService {
  readonly #memory: MemoryRouter;
  readonly #eventsRouter: EventRouter;
  readonly #registry = new ToolRegistry();
  readonly #providers: Record<string, RegisteredProvider>;
  readonly #now: () => Date;
  readonly #logger: ServiceLogger;
  readonly #leaseTtlMs: number;
  readonly #syncIntervalMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #env: Record<string, string | undefined>;
  readonly #fetch: typeof globalThis.fetch | undefined;
  readonly #modelRequestLimiter: ModelRequestLimiter | undefined;
  readonly #runtimes = new Map<
    string,
    { version: number; runtime: AgentRuntime; mcp: McpToolManager | undefined }
  >();
  readonly #mcp = new Map<string, { key: string; manager: McpToolManager }>();
  #sqlTools: SqlTools | undefined;
  /** Agent versions this manager has scheduled, to notice changes made by other processes. */
  readonly #seenVersions = new Map<string, number>();
  readonly #redactor: Redactor;
  readonly #checker = new StoredAgentChecker();
  readonly instanceId: string;
  #connection: Promise<{ store: Store; log: EventLog; publisher: EventPublisher }> | undefined;
  #scheduler: TickScheduler | undefined;
  /** The scheduling side alone, for a process that manages agents but runs none (distributed schedulers). */
  #producer: TickScheduler | undefined;
  readonly #schedulerFactory: TickSchedulerFactory;
  #dispatcher: RunDispatcher | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  /** Stops following the event log for agents changed by other processes. */
  #stopFollowing: (() => void) | undefined;
  /** Per agent, the change being applied now: changes to one agent apply one at a time, in order. */
  readonly #agentChanges = new Map<string, Promise<void>>();
  #shuttingDown = false;

  constructor(
    memory: MemoryRouter,
    events: EventRouter,
    options: BackgroundAgentServiceOptions = {},
  ) {
    this.#memory = memory;
    this.#eventsRouter = events;
    this.#providers = { ...options.providers };
    this.#now = options.now ?? (() => new Date());
    const logger = options.logger ?? silentLogger;
    this.#logger = {
      info: (object, message) => logger.info(this.#redactor.redact(object), message),
      warn: (object, message) => logger.warn(this.#redactor.redact(object), message),
      error: (object, message) => logger.error(this.#redactor.redact(object), message),
    };
    this.#leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.#syncIntervalMs =
      options.syncIntervalMs ?? Math.max(100, Math.floor(this.#leaseTtlMs / 2));
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.#env = options.env ?? process.env;
    this.#fetch = options.fetch;
    this.#modelRequestLimiter = options.modelRequestLimiter;
    this.#schedulerFactory = schedulerFactoryFor(options.scheduler);
    this.#redactor = new Redactor(
      options.maxStoredValueChars === undefined
        ? {}
        : { maxStringLength: options.maxStoredValueChars },
    );
    this.#redactor.addFromEnvironment(this.#env);
    for (const secret of options.secrets ?? []) this.#redactor.add(secret);
    this.instanceId =
      options.instanceId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    for (const [name, definition] of Object.entries(BUILT_IN_TOOLS)) {
      // A configured system_stats replaces the default one (see #registerConfiguredTools).
      if (name === 'system_stats' && options.toolSettings?.system_stats) continue;
      this.#registry.register(name, definition);
    }
    this.#registerConfiguredTools(options.toolSettings ?? {});
    for (const [name, definition] of Object.entries(options.tools ?? {}))
      this.#registry.register(name, definition);
  }

  #registerConfiguredTools(settings: ToolSettings): void {
    if (settings.system_stats)
      this.#registry.register(
        'system_stats',
        createSystemStatsTool(settings.system_stats) as ToolDefinition<never>,
      );
    if (settings.files)
      this.#registry.register(
        'file_write',
        createFileWriteTool(settings.files) as ToolDefinition<never>,
      );
    if (settings.webhooks && Object.keys(settings.webhooks).length > 0) {
      for (const url of Object.values(settings.webhooks)) this.#redactor.add(url);
      this.#registry.register(
        'notify',
        createNotifyTool({ webhooks: settings.webhooks }) as ToolDefinition<never>,
      );
    }
    if (settings.connections && Object.keys(settings.connections).length > 0) {
      for (const url of Object.values(settings.connections)) this.#redactor.add(url);
      this.#sqlTools = createSqlTools({
        connections: settings.connections,
        ...(settings.archive_directory ? { archive_directory: settings.archive_directory } : {}),
      });
      this.#registry.register('sql_query', this.#sqlTools.tools.sql_query as ToolDefinition<never>);
      this.#registry.register(
        'sql_archive',
        this.#sqlTools.tools.sql_archive as ToolDefinition<never>,
      );
    }
  }

  /** Registers a local tool agents may list by name. */
  registerTool<INPUT>(name: string, definition: ToolDefinition<INPUT>): void {
    this.#registry.register(name, definition as ToolDefinition<never>);
  }

  /** Names of the tools agents may list. */
  toolNames(): string[] {
    return this.#registry.names();
  }

  /** Validates a definition as `create` would, without storing it. */
  validateDefinition(input: unknown): AgentDefinition {
    return parseAgentDefinition(input, {
      providers: Object.keys(this.#providers),
      tools: this.#registry.names(),
      env: this.#env,
    });
  }

  /** Starts running agents in this process: restores every agent as stored, recovers interrupted runs, resumes schedules. */
  async startManager(): Promise<void> {
    if (this.#scheduler) return;
    const { store, log, publisher } = await this.#connect();
    const context: ExecutorContext = {
      store,
      events: publisher,
      now: this.#now,
      instanceId: this.instanceId,
      leaseTtlMs: this.#leaseTtlMs,
      runtimeFor: (record) => this.#runtimeFor(record),
      turns: new RunTurns(),
    };
    this.#dispatcher = new RunDispatcher(context, {
      onRunEnded: (agentId, run, agent) => this.#afterRun(agentId, run, agent),
      onError: (error, where) =>
        this.#logger.error({ err: errorMessage(error) }, `nightshift: ${where} failed`),
    });
    this.#scheduler = this.#schedulerFactory(
      {
        onTick: (agentId, scheduledAt) =>
          this.#delivered(this.#onTick(agentId, scheduledAt, true), `tick of ${agentId}`),
        onManual: (request) =>
          this.#delivered(this.#onManual(request), `manual run ${request.run_id}`),
        onMissed: (agentId, missed, lastMissed) =>
          this.#background(
            this.#onMissed(agentId, missed, lastMissed),
            `missed ticks of ${agentId}`,
          ),
        onFinished: (agentId) =>
          this.#background(
            this.#finish(agentId, 'the schedule has no more fire times'),
            `finishing ${agentId}`,
          ),
        runningRuns: () => this.#dispatcher?.handles().map((handle) => handle.run.run_id) ?? [],
        listAgents: async () =>
          (await store.agents.list()).filter((record) => !this.#checker.problemOf(record)),
      },
      this.#now,
      this.#schedulerContext(),
    );
    // From now on the full scheduler schedules and enqueues for this process.
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.close();
    // Following starts before the agents are listed: a change made before the subscription took
    // hold is in the list, one made after is heard, so none falls between the two.
    await this.#followChanges(log);
    await this.#recoverRuns();
    for (const record of await store.agents.list()) {
      await this.#inAgentOrder(record.agent_id, () => this.#trackSafely(record));
    }
    this.#syncTimer = setInterval(
      () => this.#background(this.#sync(), 'sync'),
      this.#syncIntervalMs,
    );
    this.#syncTimer.unref();
  }

  /** Stores a new agent (state `created`); `agent_exists` when the id is taken. */
  async create(input: AgentDefinitionInput): Promise<AgentStatus> {
    return this.createFromUntyped(input);
  }

  /**
   * `create` for input whose shape is not known yet (parsed JSON or YAML, an HTTP body): it is
   * validated the same way, and refused with `config_invalid` naming each bad field.
   */
  async createFromUntyped(input: unknown): Promise<AgentStatus> {
    const definition = this.validateDefinition(input);
    const { store, publisher } = await this.#connect();
    const now = this.#now().toISOString();
    const record: AgentRecord = {
      agent_id: definition.agent_id,
      definition,
      state: 'created',
      pause_reason: null,
      anchor_at: null,
      created_at: now,
      updated_at: now,
      version: 1,
      stats: emptyStats(),
    };
    if (!(await store.agents.insert(record))) {
      throw new NightshiftError(
        'agent_exists',
        `an agent named "${definition.agent_id}" already exists`,
        {
          details: { agent_id: definition.agent_id },
        },
      );
    }
    await this.#publishStatus(publisher, record, 'created');
    return this.#status(record);
  }

  /** Puts an agent on its schedule (state `active`). */
  async startAgent(agentId: string): Promise<AgentStatus> {
    const current = await this.#requireRunnable(agentId);
    if (current.state === 'active') return this.#status(current);
    return this.#changeState(
      agentId,
      { state: 'active', pause_reason: null, anchor_at: this.#now().toISOString() },
      'started',
    );
  }

  /** Takes an agent off its schedule until resumed; a run in flight finishes. */
  async pauseAgent(agentId: string, options: { reason?: string } = {}): Promise<AgentStatus> {
    const current = await this.#require(agentId);
    if (current.state === 'paused') return this.#status(current);
    if (current.state !== 'active') {
      throw new NightshiftError(
        'invalid_state',
        `agent "${agentId}" is ${current.state}; only an active agent can be paused`,
      );
    }
    return this.#changeState(
      agentId,
      { state: 'paused', pause_reason: options.reason ?? 'paused by request' },
      'paused',
    );
  }

  /** Puts a paused agent back on its schedule; ticks missed while paused are counted. */
  async resumeAgent(agentId: string): Promise<AgentStatus> {
    const current = await this.#requireRunnable(agentId);
    if (current.state === 'active') return this.#status(current);
    if (current.state !== 'paused') {
      throw new NightshiftError(
        'invalid_state',
        `agent "${agentId}" is ${current.state}; only a paused agent can be resumed`,
      );
    }
    return this.#changeState(agentId, { state: 'active', pause_reason: null }, 'resumed');
  }

  /** Takes an agent off its schedule; the run in flight finishes unless `cancel` is set (then it ends `cancelled`, in whichever process runs it). */
  async stopAgent(agentId: string, options: { cancel?: boolean } = {}): Promise<AgentStatus> {
    await this.#require(agentId);
    const status = await this.#changeState(
      agentId,
      { state: 'stopped', pause_reason: null },
      'stopped',
    );
    if (options.cancel) {
      await this.#dispatcher?.cancelAgentRuns(agentId, 'cancelled by stopAgent');
      // Runs other processes hold (other managers, BullMQ workers) are cancelled through the store.
      const { store, publisher } = await this.#connect();
      await cancelRunsInStore(
        {
          store,
          events: publisher,
          now: this.#now,
          isLocal: (runId) => this.#dispatcher?.completion(runId) !== undefined,
        },
        agentId,
        'cancelled by stopAgent',
      );
    }
    // MCP servers close once the run in flight (which may still use them) has finished.
    this.#background(
      (async () => {
        await this.#dispatcher?.settleAgentRuns(agentId);
        const { store } = await this.#connect();
        if ((await store.agents.get(agentId))?.state === 'stopped') await this.#closeMcp(agentId);
      })(),
      `closing the MCP servers of ${agentId}`,
    );
    return options.cancel ? this.getAgentStatus(agentId) : status;
  }

  /** Changes an agent's definition (validated like `create`); its state is kept. */
  async updateAgent(agentId: string, patch: AgentDefinitionPatch): Promise<AgentStatus> {
    return this.updateAgentFromUntyped(agentId, patch);
  }

  /** `updateAgent` for a patch whose shape is not known yet (an HTTP body): validated the same way. */
  async updateAgentFromUntyped(agentId: string, input: unknown): Promise<AgentStatus> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new NightshiftError('config_invalid', '(patch): must be an object', {
        fields: [{ path: '(patch)', message: 'must be an object' }],
      });
    }
    const patch = input as Record<string, unknown>;
    const current = await this.#require(agentId);
    if ('agent_id' in patch && patch.agent_id !== agentId) {
      throw new NightshiftError('config_invalid', 'agent_id: cannot be changed', {
        fields: [{ path: 'agent_id', message: 'cannot be changed' }],
      });
    }
    // The merge keeps one schedule kind of a patch: two would silently lose one.
    const kinds = (['interval', 'cron', 'run_at'] as const).filter(
      (kind) => patch[kind] !== undefined && patch[kind] !== null,
    );
    if (kinds.length > 1) {
      const message = `only one of interval, cron or run_at may be set (got ${kinds.join(', ')})`;
      throw new NightshiftError('config_invalid', `${kinds[1]}: ${message}`, {
        fields: [{ path: kinds[1] ?? 'cron', message }],
      });
    }
    const definition = this.validateDefinition(mergeDefinition(current.definition, patch));
    const { store, publisher } = await this.#connect();
    const rescheduled = changesSchedule(patch) && current.state === 'active';
    const record = await store.agents.update(agentId, {
      definition,
      ...(rescheduled ? { anchor_at: this.#now().toISOString() } : {}),
    });
    if (!record) throw this.#notFound(agentId);
    this.#runtimes.delete(agentId);
    await this.#track(record);
    await this.#publishStatus(publisher, record, 'updated');
    return this.#status(record);
  }

  /** Removes an agent, its runs and its conversation; runs in flight are cancelled. */
  async deleteAgent(agentId: string): Promise<void> {
    const current = await this.#require(agentId);
    const { store, publisher } = await this.#connect();
    await this.#schedulerHandle()?.unschedule(agentId);
    this.#seenVersions.delete(agentId);
    this.#checker.forget(agentId);
    await this.#dispatcher?.cancelAgentRuns(agentId, 'the agent was deleted');
    await store.agents.delete(agentId);
    await store.runs.deleteByAgent(agentId);
    await store.messages.clear(current.definition.task_config.session_id ?? agentId);
    this.#runtimes.delete(agentId);
    await this.#closeMcp(agentId);
    await publisher.publish('background_agent_status', agentId, null, {
      state: 'deleted',
      is_running: false,
      pause_reason: null,
      next_run_at: null,
      reason: 'deleted',
    });
  }

  /** One agent's status. */
  async getAgentStatus(agentId: string): Promise<AgentStatus> {
    return this.#status(await this.#require(agentId));
  }

  /** Every agent's status, ordered by id. */
  async listAgents(): Promise<AgentStatus[]> {
    const { store } = await this.#connect();
    return Promise.all((await store.agents.list()).map((record) => this.#status(record)));
  }

  /** An agent's definition as stored (defaults filled in). */
  async getAgentDefinition(agentId: string): Promise<AgentDefinition> {
    return this.#redactor.redact((await this.#require(agentId)).definition);
  }

  /**
   * Runs an agent now, outside its schedule, with the same limits, retries and overlap policy.
   * Returns the run record at once, or when it has ended with `wait: true`.
   */
  async runNow(agentId: string, options: RunNowOptions = {}): Promise<RunRecord> {
    const agent = await this.#require(agentId);
    const scheduler = this.#shuttingDown ? undefined : this.#schedulerHandle();
    const enqueue = scheduler?.enqueueManual?.bind(scheduler);
    if (enqueue) return this.#enqueueManual(enqueue, agent, options);
    const dispatcher = this.#requireDispatcher();
    const now = this.#now();
    const run = newRunRecord({
      runId: manualRunId(agentId, now),
      agentId,
      trigger: 'manual',
      scheduledAt: now,
      query: options.query ?? agent.definition.task_config.query,
      now,
      ...this.#lease(),
    });
    const dispatched = await dispatcher.dispatch(agent, run);
    if (!dispatched) throw new NightshiftError('internal', `run ${run.run_id} was claimed twice`);
    if (!options.wait || isTerminal(dispatched.status)) return dispatched;
    return (await dispatcher.completion(run.run_id)) ?? dispatched;
  }

  /**
   * A manual run through a distributed scheduler: any worker takes it (this process too, if it
   * is one). The record returned is built from the request and not stored: the worker that takes
   * the run claims it. With `wait`, follows the store until the run has ended.
   */
  async #enqueueManual(
    enqueue: (request: ManualRunRequest) => Promise<void>,
    agent: AgentRecord,
    options: RunNowOptions,
  ): Promise<RunRecord> {
    const now = this.#now();
    const request: ManualRunRequest = {
      agent_id: agent.agent_id,
      run_id: manualRunId(agent.agent_id, now),
      query: options.query ?? agent.definition.task_config.query,
      requested_at: now.toISOString(),
    };
    await enqueue(request);
    const pending: RunRecord = {
      ...newRunRecord({
        runId: request.run_id,
        agentId: agent.agent_id,
        trigger: 'manual',
        scheduledAt: now,
        query: request.query,
        now,
        ...this.#lease(),
      }),
      lease_owner: null,
      lease_expires_at: null,
    };
    if (!options.wait) return pending;
    const { store } = await this.#connect();
    // Polling with a bounded interval: a run that ended in another process is seen within it.
    for (let delayMs = 20; ; delayMs = Math.min(delayMs * 2, RUN_WAIT_POLL_MAX_MS)) {
      const run = await store.runs.get(request.run_id);
      if (run && isTerminal(run.status)) return run;
      if (!run && !(await store.agents.get(agent.agent_id))) throw this.#notFound(agent.agent_id);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /**
   * The worker processes of a distributed scheduler, from its heartbeat registry: what each
   * one is running now. Empty with the in-process scheduler.
   */
  async listWorkers(): Promise<WorkerInfo[]> {
    return (await this.#schedulerHandle()?.listWorkers?.()) ?? [];
  }

  /** An agent's runs, newest first. */
  async listRuns(agentId: string, options: ListRunsOptions = {}): Promise<RunRecord[]> {
    await this.#require(agentId);
    const { store } = await this.#connect();
    return this.#redactor.redact(await store.runs.list(agentId, options));
  }

  /** One run record; `run_not_found` when there is none. */
  async getRun(runId: string): Promise<RunRecord> {
    const { store } = await this.#connect();
    const run = await store.runs.get(runId);
    if (!run)
      throw new NightshiftError('run_not_found', `no run with id "${runId}"`, {
        details: { run_id: runId },
      });
    return this.#redactor.redact(run);
  }

  /** A run's steps (model calls and tool calls) in the order they happened. */
  async getRunSteps(runId: string): Promise<RunStep[]> {
    await this.getRun(runId);
    const { store } = await this.#connect();
    return this.#redactor.redact(await store.runs.listSteps(runId));
  }

  /** The next `count` fire times of an agent's schedule (ISO strings), time zone and DST aware. */
  async nextRuns(agentId: string, count = 5): Promise<string[]> {
    const record = await this.#requireRunnable(agentId);
    const after = this.#scheduleCursor(record);
    return scheduleOf(record)
      .nextN(after, count)
      .map((date) => date.toISOString());
  }

  /**
   * A live stream of an agent's events (or the whole fleet's, with `agentId` undefined).
   * `since: '0'` replays stored history first; an event id resumes after it.
   */
  streamAgentEvents(
    agentId: string | undefined,
    options: StreamEventsOptions = {},
  ): AsyncIterableIterator<NightshiftEvent> {
    return streamEvents(
      this.#connect().then((connection) => connection.log),
      agentId,
      options,
    );
  }

  /** Stored events (oldest first), for pages and polling. */
  async readEvents(
    options: { agent_id?: string; after?: string; limit?: number } = {},
  ): Promise<NightshiftEvent[]> {
    const { log } = await this.#connect();
    return this.#redactor.redact(await log.read(options));
  }

  /** Stops taking runs; runs in flight get `timeout` ms to finish, then end `interrupted`. Closes the stores. */
  async shutdown(options: { timeout?: number } = {}): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    clearInterval(this.#syncTimer);
    this.#stopFollowing?.();
    // Together: a distributed scheduler's close waits for the jobs of runs in flight, which end
    // within the dispatcher's grace.
    await Promise.all([
      this.#scheduler?.close(),
      this.#producer?.close(),
      this.#dispatcher?.close(options.timeout ?? this.#shutdownTimeoutMs),
    ]);
    this.#producer = undefined;
    await Promise.all([...this.#mcp.keys()].map((agentId) => this.#closeMcp(agentId)));
    await this.#sqlTools?.close().catch(() => undefined);
    await this.#modelRequestLimiter?.close?.().catch(() => undefined);
    if (this.#connection) {
      await this.#connection.catch(() => undefined);
      await Promise.allSettled([this.#memory.close(), this.#eventsRouter.close()]);
      this.#connection = undefined;
    }
  }

  // --- internals -------------------------------------------------------------------------

  #connect(): Promise<{ store: Store; log: EventLog; publisher: EventPublisher }> {
    if (this.#shuttingDown && !this.#connection) {
      return Promise.reject(new NightshiftError('shutting_down', 'the service has shut down'));
    }
    this.#connection ??= (async () => {
      const [memory, log] = await Promise.all([
        this.#memory.connect(),
        this.#eventsRouter.connect(),
      ]);
      const store = guardedStore(memory, this.#redactor);
      return { store, log, publisher: new EventPublisher(log, this.#now, this.#redactor) };
    })();
    this.#connection.catch(() => {
      this.#connection = undefined;
    });
    return this.#connection;
  }

  #notFound(agentId: string): NightshiftError {
    return new NightshiftError('agent_not_found', `no agent named "${agentId}"`, {
      details: { agent_id: agentId },
    });
  }

  async #require(agentId: string): Promise<AgentRecord> {
    const { store } = await this.#connect();
    const record = await store.agents.get(agentId);
    if (!record) throw this.#notFound(agentId);
    return record;
  }

  /** The agent's record, refused with `config_invalid` when the stored record cannot run. */
  async #requireRunnable(agentId: string): Promise<AgentRecord> {
    const record = await this.#require(agentId);
    const problem = this.#checker.problemOf(record);
    if (problem) {
      throw new NightshiftError(
        'config_invalid',
        `agent "${agentId}" cannot run: ${problem}; fix it with an update`,
        { details: { agent_id: agentId } },
      );
    }
    return record;
  }

  #requireDispatcher(): RunDispatcher {
    if (!this.#dispatcher || this.#shuttingDown) {
      throw new NightshiftError(
        this.#shuttingDown ? 'shutting_down' : 'invalid_state',
        this.#shuttingDown
          ? 'the service is shutting down'
          : 'this process runs no agents (it manages the store only; agents run in the process that called startManager(), such as nightshift run), and its scheduler is not distributed: ask that process, or schedule with BullMQ so that any process queues runs for the workers',
        this.#shuttingDown ? {} : { details: { reason: 'runs_no_agents' } },
      );
    }
    return this.#dispatcher;
  }

  /** Waits for a delivery, logging (not throwing) its failure: for schedulers that hold a job until the run ends. */
  async #delivered(work: Promise<DeliveryOutcome>, what: string): Promise<DeliveryOutcome> {
    try {
      return await work;
    } catch (error) {
      this.#logger.error({ err: errorMessage(error) }, `nightshift: ${what} failed`);
      return 'handled';
    }
  }

  #schedulerContext(): SchedulerContext {
    return { instanceId: this.instanceId, leaseTtlMs: this.#leaseTtlMs, logger: this.#logger };
  }

  /**
   * The scheduler this process schedules through: the manager's, else (distributed schedulers)
   * the producer side alone, built on first use. Undefined for a non-manager on local timers.
   */
  #schedulerHandle(): TickScheduler | undefined {
    if (this.#scheduler) return this.#scheduler;
    if (this.#shuttingDown || !this.#schedulerFactory.producer) return undefined;
    this.#producer ??= this.#schedulerFactory.producer(this.#now, this.#schedulerContext());
    return this.#producer;
  }

  #background(work: Promise<unknown>, what: string): void {
    work.catch((error: unknown) =>
      this.#logger.error({ err: errorMessage(error) }, `nightshift: ${what} failed`),
    );
  }

  /**
   * The model and tools of an agent's current definition, built once per version. MCP servers
   * are connected on first use, reused across runs and versions while `mcp_tools` stays the
   * same, and closed when it changes (or the agent stops, is deleted, or the service shuts down).
   */
  async #runtimeFor(record: AgentRecord): Promise<AgentRuntime> {
    const mcp = await this.#mcpFor(record);
    const cached = this.#runtimes.get(record.agent_id);
    if (cached && cached.version === record.version && cached.mcp === mcp) return cached.runtime;
    const { definition, secrets } = resolveDefinition(record.definition, this.#env);
    for (const secret of secrets) this.#redactor.add(secret);
    const keyEnv = apiKeyEnvFor(definition.model_config);
    if (keyEnv) this.#redactor.add(this.#env[keyEnv]);
    const local = this.#registry.pick(definition.tools);
    const model = createModel(definition.model_config, {
      providers: this.#providers,
      env: this.#env,
      ...(this.#fetch ? { fetch: this.#fetch } : {}),
    });
    const limiter = this.#modelRequestLimiter;
    const runtime: AgentRuntime = {
      definition,
      model: limiter
        ? limitModelRequests(model, record.definition.model_config.provider, limiter)
        : model,
      tools: mcp ? new Map([...local, ...mcp.tools()]) : local,
    };
    this.#runtimes.set(record.agent_id, { version: record.version, runtime, mcp });
    return runtime;
  }

  async #mcpFor(record: AgentRecord): Promise<McpToolManager | undefined> {
    const servers = record.definition.mcp_tools;
    const key = JSON.stringify(servers);
    let entry = this.#mcp.get(record.agent_id);
    if (entry && entry.key !== key) {
      await this.#closeMcp(record.agent_id);
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
          env: this.#env,
          onSecret: (value) => this.#redactor.add(value),
        }),
      };
      this.#mcp.set(record.agent_id, entry);
    }
    // A no-op once connected; after a failure the next run tries again.
    await entry.manager.connect();
    return entry.manager;
  }

  /** Closes an agent's MCP servers, if any are open. */
  async #closeMcp(agentId: string): Promise<void> {
    const entry = this.#mcp.get(agentId);
    this.#mcp.delete(agentId);
    await entry?.manager
      .close()
      .catch((error: unknown) =>
        this.#logger.warn(
          { err: errorMessage(error) },
          `nightshift: closing the MCP servers of ${agentId} failed`,
        ),
      );
  }

  /** A lease on a new run for this process. */
  #lease(): { leaseOwner: string; leaseExpiresAt: string } {
    return {
      leaseOwner: this.instanceId,
      leaseExpiresAt: new Date(this.#now().getTime() + this.#leaseTtlMs).toISOString(),
    };
  }

  /** Where an agent's schedule continues from: its newest dealt-with tick, or now. */
  #scheduleCursor(record: AgentRecord): Date {
    const now = this.#now();
    const last = record.stats.last_scheduled_at
      ? new Date(record.stats.last_scheduled_at)
      : undefined;
    return last && last > now ? last : now;
  }

  async #status(record: AgentRecord): Promise<AgentStatus> {
    const { store } = await this.#connect();
    const running = (await store.runs.list(record.agent_id, { status: 'running', limit: 100 }))
      .length;
    const problem = this.#checker.problemOf(record);
    const next =
      record.state === 'active' && !problem
        ? scheduleOf(record).next(this.#scheduleCursor(record))
        : undefined;
    return this.#redactor.redact(buildStatus(record, running, next, problem));
  }

  async #publishStatus(
    publisher: EventPublisher,
    record: AgentRecord,
    reason: string,
  ): Promise<void> {
    const status = await this.#status(record);
    await publisher.publish('background_agent_status', record.agent_id, null, {
      state: status.state,
      is_running: status.is_running,
      pause_reason: status.pause_reason,
      next_run_at: status.next_run_at,
      reason,
    });
  }

  async #changeState(
    agentId: string,
    patch: Parameters<Store['agents']['update']>[1],
    reason: string,
  ): Promise<AgentStatus> {
    const { store, publisher } = await this.#connect();
    const record = await store.agents.update(agentId, patch);
    if (!record) throw this.#notFound(agentId);
    await this.#track(record);
    await this.#publishStatus(publisher, record, reason);
    return this.#status(await this.#require(agentId));
  }

  /**
   * Brings this manager's scheduler in line with a stored record; records the ticks missed
   * since the agent last ran (resolves once they are counted) and dispatches a catch-up run.
   */
  async #track(record: AgentRecord): Promise<void> {
    const scheduler = this.#shuttingDown ? undefined : this.#schedulerHandle();
    if (!scheduler) return;
    this.#seenVersions.set(record.agent_id, record.version);
    const problem = this.#checker.problemOf(record);
    if (record.state !== 'active' || problem) {
      await scheduler.unschedule(record.agent_id);
      if (problem) await this.#reportInvalid(record, problem);
      return;
    }
    const immediate =
      record.definition.run_immediately &&
      !record.stats.last_scheduled_at &&
      record.anchor_at !== null &&
      !scheduler.isScheduled(record.agent_id);
    const plan = await scheduler.schedule(record);
    if (plan.missed > 0 && plan.lastMissed)
      await this.#onMissed(record.agent_id, plan.missed, plan.lastMissed);
    const first = immediate && record.anchor_at ? new Date(record.anchor_at) : plan.catchUp;
    if (first && scheduler.enqueueTick) await scheduler.enqueueTick(record.agent_id, first);
    else if (first)
      this.#background(
        this.#onTick(record.agent_id, first),
        `run of ${record.agent_id} at ${first.toISOString()}`,
      );
  }

  /** Tracks one record; its failure is reported and skipped, so one record never stops the others. */
  async #trackSafely(record: AgentRecord): Promise<void> {
    try {
      await this.#track(record);
    } catch (error) {
      await this.#reportInvalid(record, `it could not be scheduled: ${errorMessage(error)}`);
    }
  }

  /** Says, in the log and the event log, that a stored agent is skipped and why. */
  async #reportInvalid(record: AgentRecord, problem: string): Promise<void> {
    this.#logger.warn(
      { agent_id: record.agent_id, problem },
      `nightshift: agent ${record.agent_id} is invalid and is skipped`,
    );
    const { publisher } = await this.#connect();
    await publisher.publish('background_agent_status', record.agent_id, null, {
      state: 'invalid',
      is_running: false,
      pause_reason: record.pause_reason,
      next_run_at: null,
      reason: problem,
    });
  }

  /**
   * Dispatches a tick; with `waitForEnd`, resolves once its run (if it started here) has ended.
   * `declined` when shutting down took the tick from under it: nothing was recorded.
   */
  async #onTick(agentId: string, scheduledAt: Date, waitForEnd = false): Promise<DeliveryOutcome> {
    if (this.#shuttingDown) return 'declined';
    const { store } = await this.#connect();
    // Read the agent fresh: a pause or stop made by any process is obeyed before the tick.
    const agent = await store.agents.get(agentId);
    if (!agent || agent.state !== 'active' || this.#checker.problemOf(agent)) {
      await this.#scheduler?.unschedule(agentId);
      return 'handled';
    }
    const maxRuns = agent.definition.max_runs;
    if (
      maxRuns !== undefined &&
      agent.stats.run_count + (this.#dispatcher?.runningCount(agentId) ?? 0) >= maxRuns
    ) {
      await this.#finish(agentId, `max_runs (${maxRuns}) reached`);
      return 'handled';
    }
    const run = newRunRecord({
      runId: scheduledRunId(agentId, scheduledAt),
      agentId,
      trigger: 'schedule',
      scheduledAt,
      query: agent.definition.task_config.query,
      now: this.#now(),
      ...this.#lease(),
    });
    const dispatched = await this.#dispatcher?.dispatch(agent, run);
    if (!dispatched && this.#shuttingDown) return 'declined';
    if (waitForEnd && dispatched && !isTerminal(dispatched.status))
      await this.#dispatcher?.completion(run.run_id);
    return 'handled';
  }

  /** A manual run delivered by a distributed scheduler: runs here under the usual rules, resolving at its end. */
  async #onManual(request: ManualRunRequest): Promise<DeliveryOutcome> {
    if (this.#shuttingDown || !this.#dispatcher) return 'declined';
    const { store } = await this.#connect();
    const agent = await store.agents.get(request.agent_id);
    if (!agent) return 'handled';
    const run = newRunRecord({
      runId: request.run_id,
      agentId: request.agent_id,
      trigger: 'manual',
      scheduledAt: new Date(request.requested_at),
      query: request.query,
      now: this.#now(),
      ...this.#lease(),
    });
    const dispatched = await this.#dispatcher.dispatch(agent, run);
    if (!dispatched && this.#shuttingDown) return 'declined';
    if (dispatched && !isTerminal(dispatched.status)) await this.#dispatcher.completion(run.run_id);
    return 'handled';
  }

  async #onMissed(agentId: string, missed: number, lastMissed: Date): Promise<void> {
    const { store, publisher } = await this.#connect();
    await store.agents.updateStats(agentId, { missed, scheduled_at: lastMissed.toISOString() });
    await publisher.publish('background_task_missed', agentId, null, {
      missed,
      last_missed_at: lastMissed.toISOString(),
    });
  }

  /** The schedule is done (or max_runs reached): the agent stops, saying why. */
  async #finish(agentId: string, why: string): Promise<void> {
    const { store, publisher } = await this.#connect();
    const record = await store.agents.get(agentId);
    if (!record || record.state !== 'active') return;
    const updated = await store.agents.update(agentId, { state: 'stopped', pause_reason: why });
    if (!updated) return;
    await this.#track(updated);
    await this.#publishStatus(publisher, updated, why);
  }

  /** Acts on a run's end: auto-pause, max_runs. `latest`: the agent's record as the run's stats left it. */
  async #afterRun(agentId: string, run: RunRecord, latest: AgentRecord | undefined): Promise<void> {
    const { store, publisher } = await this.#connect();
    const agent = latest ?? (await store.agents.get(agentId));
    if (!agent || agent.state !== 'active') return;
    const threshold = agent.definition.auto_pause_after_failures;
    if (threshold !== undefined && agent.stats.consecutive_failures >= threshold) {
      const reason = `auto-paused after ${agent.stats.consecutive_failures} consecutive failed runs (last: ${run.status}${run.error ? `, ${run.error.code}` : ''})`;
      const paused = await store.agents.update(agentId, { state: 'paused', pause_reason: reason });
      if (paused) {
        await this.#track(paused);
        await this.#publishStatus(publisher, paused, 'auto_paused');
      }
      return;
    }
    const maxRuns = agent.definition.max_runs;
    if (maxRuns !== undefined && agent.stats.run_count >= maxRuns)
      await this.#finish(agentId, `max_runs (${maxRuns}) reached`);
  }

  /**
   * Runs whose lease expired (their process died) end `interrupted`, or go on if retries remain.
   * Taking a run over is a compare-and-set on its lease, so one process recovers it, once.
   */
  async #recoverRuns(): Promise<void> {
    const { store, publisher } = await this.#connect();
    const now = this.#now();
    for (const run of await store.runs.listUnfinished()) {
      if (run.lease_expires_at && new Date(run.lease_expires_at) > now) continue;
      if (this.#dispatcher?.completion(run.run_id)) continue;
      const taken = await store.runs.update(
        run.run_id,
        { lease_owner: this.instanceId, lease_expires_at: this.#lease().leaseExpiresAt },
        { lease_owner: run.lease_owner, status: [run.status], lease_expired_at: now.toISOString() },
      );
      if (!taken) continue;
      // Its tick was dealt with (it has a run): never count it missed when the agent is tracked.
      const agent =
        run.trigger === 'schedule'
          ? await store.agents.updateStats(run.agent_id, { scheduled_at: run.scheduled_at })
          : await store.agents.get(run.agent_id);
      const attempt = run.attempts.length + 1;
      const error = {
        code: 'interrupted',
        message: 'the process running it stopped before it finished (its lease expired)',
      };
      const started = run.started_at !== null;
      const attempts = started
        ? [
            ...run.attempts,
            {
              attempt,
              started_at: run.started_at ?? run.created_at,
              ended_at: now.toISOString(),
              status: 'interrupted' as const,
              error,
              usage: emptyUsage(),
              ...(run.lease_owner ? { worker_id: run.lease_owner } : {}),
            },
          ]
        : run.attempts;
      const willRetry =
        !!agent &&
        started &&
        attempt <= agent.definition.task_config.max_retries &&
        agent.state !== 'stopped';
      await publisher.publish('background_task_error', run.agent_id, run.run_id, {
        error,
        attempt,
        will_retry: willRetry,
        status: 'interrupted',
      });
      if (willRetry && agent && this.#dispatcher) {
        const resumed = await store.runs.update(
          run.run_id,
          { attempts },
          { lease_owner: this.instanceId },
        );
        if (resumed)
          this.#background(this.#dispatcher.resume(agent, resumed), `retrying ${run.run_id}`);
        continue;
      }
      const ended = await store.runs.update(
        run.run_id,
        {
          status: 'interrupted',
          error,
          attempts,
          ended_at: now.toISOString(),
          lease_owner: null,
          lease_expires_at: null,
        },
        { lease_owner: this.instanceId },
      );
      if (ended && agent) {
        await store.agents.updateStats(run.agent_id, {
          run: {
            status: 'interrupted',
            ended_at: now.toISOString(),
            duration_ms: run.started_at ? now.getTime() - new Date(run.started_at).getTime() : 0,
            total_tokens: run.usage.total_tokens,
            error,
          },
        });
      }
    }
  }

  /**
   * Every acknowledged change (create, start, pause, resume, stop, update, delete) is announced
   * in the event log as `background_agent_status`; the log reaches every process sharing it
   * within moments (Postgres LISTEN/NOTIFY, Redis streams, SQLite polling), so a change made
   * anywhere applies here at once. The periodic sync stays the safety net (promise 6).
   */
  async #followChanges(log: EventLog): Promise<void> {
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    this.#stopFollowing = log.subscribe(
      (event) => {
        if (event.type !== 'background_agent_status' || this.#shuttingDown) return;
        const agentId = event.agent_id;
        this.#background(
          this.#inAgentOrder(agentId, () => this.#applyStoredChange(agentId)),
          `following a change of ${agentId}`,
        );
      },
      { onReady: () => ready() },
    );
    // A log that cannot say where it starts (its server is down) must not hold up the start:
    // the periodic sync covers what it misses.
    const gaveUp = new AbortController();
    await Promise.race([started, abortableSleep(FOLLOW_START_TIMEOUT_MS, gaveUp.signal)]);
    gaveUp.abort();
  }

  /** Runs `work` after the changes of this agent already under way: one at a time, in order. */
  #inAgentOrder(agentId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#agentChanges.get(agentId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#agentChanges.set(agentId, next);
    void next
      .finally(() => {
        if (this.#agentChanges.get(agentId) === next) this.#agentChanges.delete(agentId);
      })
      .catch(() => undefined);
    return next;
  }

  /** Brings this manager in line with one agent's stored record, if it changed since last seen. */
  async #applyStoredChange(agentId: string): Promise<void> {
    if (this.#shuttingDown) return;
    const { store } = await this.#connect();
    const record = await store.agents.get(agentId);
    if (!record) {
      if (!this.#seenVersions.delete(agentId)) return;
      await this.#scheduler?.unschedule(agentId);
      await this.#dispatcher?.cancelAgentRuns(agentId, 'the agent was deleted');
      return;
    }
    if (this.#seenVersions.get(agentId) === record.version) return;
    this.#runtimes.delete(agentId);
    await this.#trackSafely(record);
  }

  /** Periodic: recover expired runs, and follow agents changed by other processes (promise 6). */
  async #sync(): Promise<void> {
    if (this.#shuttingDown) return;
    await this.#recoverRuns();
    const { store } = await this.#connect();
    const records = await store.agents.list();
    const present = new Set<string>();
    for (const record of records) {
      present.add(record.agent_id);
      if (this.#seenVersions.get(record.agent_id) !== record.version) {
        this.#runtimes.delete(record.agent_id);
        await this.#trackSafely(record);
      }
    }
    for (const agentId of [...this.#seenVersions.keys()]) {
      if (!present.has(agentId)) {
        this.#seenVersions.delete(agentId);
        await this.#scheduler?.unschedule(agentId);
        await this.#dispatcher?.cancelAgentRuns(agentId, 'the agent was deleted');
      }
    }
  }
}
