import type { AgentDefinition } from '../config/agent-definition.js';
import { parseAgentDefinition } from '../config/parse-agent-definition.js';
import { errorMessage, NightshiftError } from '../errors.js';
import { scheduleOf } from '../schedule/index.js';
import { defaultInstanceId } from '../shared/process-liveness.js';
import type { EventRouter, MemoryRouter } from '../storage/index.js';
import {
  isWaiting,
  WAITING_STATUSES,
  type AgentRecord,
  type EventLog,
  type EventPayloads,
  type Store,
} from '../storage/contracts/index.js';
import { AgentRuntimes } from './agent-runtimes.js';
import type { AgentStatus } from './agent-status.js';
import type { ModelPricing } from '../config/pricing.js';
import type { FleetBudgets } from './budgets/budget-lines.js';
import { ServiceBudgets } from './budgets/service-budgets.js';
import { buildStatus } from './build-status.js';
import { EventPublisher } from './event-publisher.js';
import { guardedStore } from './guarded-store.js';
import {
  resolveNotificationSettings,
  type NotificationSettings,
} from './notifications/notification-settings.js';
import type { Notifier } from './notifications/notifier.js';
import type { ModelRequestLimiter } from './model-request-limiter.js';
import { Redactor } from './redactor.js';
import { runTracing, type RunTracing } from './telemetry/run-tracing.js';
import { resolveTelemetrySettings } from './telemetry/telemetry-settings.js';
import { startTraceExport } from './telemetry/trace-export.js';
import type { RunDispatcher } from './run-dispatcher.js';
import { RunTransitions } from './runs/run-transitions.js';
import { checkPartition } from './partition.js';
import { schedulerFactoryFor } from './scheduler-settings.js';
import {
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  defaultSyncIntervalMs,
  silentLogger,
  type BackgroundAgentServiceOptions,
  type ServiceLogger,
} from './service-options.js';
import { createServiceTools, type ServiceTools } from './service-tools.js';
import { StoredAgentChecker } from './stored-agent-checker.js';
import type { SchedulerContext, TickScheduler, TickSchedulerFactory } from './tick-scheduler.js';

/** Budget windows remembered as announced before the memory is cleared (a window a key). */
const MAX_ANNOUNCED_BUDGETS = 10_000;

/** The service's stores, opened on first use: every read and write passes the guard. */
export interface Connection {
  store: Store;
  log: EventLog;
  publisher: EventPublisher;
  transitions: RunTransitions;
}

/**
 * What the parts of the service share: its settings, its stores, and what this process runs
 * (the scheduler, the dispatcher) once it is a manager. One object, so that each part of the
 * service takes one argument.
 */
export class ServiceContext {
  readonly instanceId: string;
  readonly now: () => Date;
  /** Redacts what it is given before it reaches the caller's logger. */
  readonly logger: ServiceLogger;
  readonly leaseTtlMs: number;
  readonly syncIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  readonly env: Record<string, string | undefined>;
  readonly redactor: Redactor;
  /** Traces runs (`telemetry` of the options, or the OTLP environment); off without an endpoint. */
  readonly tracing: RunTracing;
  readonly checker = new StoredAgentChecker();
  readonly tools: ServiceTools;
  readonly runtimes: AgentRuntimes;
  readonly providerNames: string[];
  /** The names of the guardrail functions registered in code. */
  readonly guardrailFunctions: string[];
  readonly modelRequestLimiter: ModelRequestLimiter | undefined;
  readonly schedulerFactory: TickSchedulerFactory;
  /** Prices and budgets (the agent's, its tags', the fleet's), held before each call. */
  readonly budgets: ServiceBudgets;
  /** The fleet's and the tags' budgets (`budgets` of the options). */
  readonly fleetBudgets: FleetBudgets;
  /** Prices by model name, over the built-in table (`pricing` of the options). */
  readonly pricing: Readonly<Record<string, ModelPricing>>;
  /** Alerts (`notifications` of the options, checked); undefined when none are configured. */
  readonly notifications: NotificationSettings | undefined;
  /** Sends alerts, once this process is a manager with `notifications`. */
  notifier: Notifier | undefined;
  /** Budget windows whose exhaustion this process announced in an agent's status already. */
  readonly #announcedBudgets = new Set<string>();
  /** Agent versions this manager has scheduled, to notice changes made by other processes. */
  readonly seenVersions = new Map<string, number>();
  /** The full scheduler, once this process is a manager. */
  scheduler: TickScheduler | undefined;
  /** The scheduling side alone, for a process that manages agents but runs none (distributed schedulers). */
  producer: TickScheduler | undefined;
  dispatcher: RunDispatcher | undefined;
  shuttingDown = false;
  readonly #memory: MemoryRouter;
  readonly #events: EventRouter;
  #connection: Promise<Connection> | undefined;

  constructor(memory: MemoryRouter, events: EventRouter, options: BackgroundAgentServiceOptions) {
    this.#memory = memory;
    this.#events = events;
    this.now = options.now ?? (() => new Date());
    const logger = options.logger ?? silentLogger;
    this.redactor = new Redactor(
      options.maxStoredValueChars === undefined
        ? {}
        : { maxStringLength: options.maxStoredValueChars },
    );
    const fields = (object: object) => this.redactor.redact(this.tracing.logFields(object));
    this.logger = {
      info: (object, message) => logger.info(fields(object), message),
      warn: (object, message) => logger.warn(fields(object), message),
      error: (object, message) => logger.error(fields(object), message),
    };
    this.leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.syncIntervalMs = options.syncIntervalMs ?? defaultSyncIntervalMs(this.leaseTtlMs);
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.env = options.env ?? process.env;
    this.modelRequestLimiter = options.modelRequestLimiter;
    this.schedulerFactory = schedulerFactoryFor(
      options.scheduler,
      checkPartition(options.partition),
    );
    this.redactor.addFromEnvironment(this.env);
    for (const secret of options.secrets ?? []) this.redactor.add(secret);
    this.notifications = options.notifications
      ? resolveNotificationSettings(options.notifications)
      : undefined;
    // A target's URL carries its token (Slack's in its path): as secret as its signing key.
    for (const target of this.notifications?.targets ?? []) {
      this.redactor.add(target.url);
      this.redactor.add(new URL(target.url).href);
      this.redactor.add(target.secret);
    }
    const telemetry = resolveTelemetrySettings(options.telemetry, this.env);
    for (const value of Object.values(telemetry?.headers ?? {})) this.redactor.add(value);
    // Set up in the background (the SDK loads on demand); runs wait for it before tracing.
    this.tracing = runTracing(
      telemetry &&
        startTraceExport(telemetry, (value) => this.redactor.redact(value)).catch(
          (error: unknown) => {
            this.logger.error(
              { err: errorMessage(error) },
              'nightshift: starting the trace export failed; runs are not traced',
            );
            return undefined;
          },
        ),
      telemetry?.captureContent ?? false,
    );
    this.instanceId = options.instanceId ?? defaultInstanceId();
    this.pricing = options.pricing ?? {};
    this.fleetBudgets = options.budgets ?? {};
    this.budgets = new ServiceBudgets({
      fleet: this.fleetBudgets,
      pricing: this.pricing,
      now: this.now,
      publish: (agentId, runId, payload) => this.#budgetExhausted(agentId, runId, payload),
    });
    this.tools = createServiceTools(options.toolSettings ?? {}, options.tools ?? {}, this.redactor);
    const providers = { ...options.providers };
    this.providerNames = Object.keys(providers);
    this.guardrailFunctions = Object.keys(options.guardrails ?? {});
    this.runtimes = new AgentRuntimes({
      registry: this.tools.registry,
      providers,
      env: this.env,
      fetch: options.fetch,
      modelRequestLimiter: options.modelRequestLimiter,
      redactor: this.redactor,
      logger: this.logger,
      guardrails: new Map(Object.entries(options.guardrails ?? {})),
    });
  }

  /** The stores, connected once; a failed connection is tried again on the next call. */
  connect(): Promise<Connection> {
    if (this.shuttingDown && !this.#connection) {
      return Promise.reject(new NightshiftError('shutting_down', 'the service has shut down'));
    }
    this.#connection ??= (async () => {
      const [memory, log] = await Promise.all([this.#memory.connect(), this.#events.connect()]);
      const store = guardedStore(memory, this.redactor);
      const publisher = new EventPublisher(log, this.now, this.redactor, (runId) =>
        this.tracing.traceIdOf(runId),
      );
      const transitions = new RunTransitions({
        store,
        events: publisher,
        now: this.now,
        instanceId: this.instanceId,
        leaseTtlMs: this.leaseTtlMs,
      });
      return { store, log, publisher, transitions };
    })();
    this.#connection.catch(() => {
      this.#connection = undefined;
    });
    return this.#connection;
  }

  /** Closes the stores, if they were opened. */
  async closeStores(): Promise<void> {
    if (!this.#connection) return;
    await this.#connection.catch(() => undefined);
    await Promise.allSettled([this.#memory.close(), this.#events.close()]);
    this.#connection = undefined;
  }

  /** Validates a definition against this service's providers and tools. */
  validate(input: unknown): AgentDefinition {
    return parseAgentDefinition(input, {
      providers: this.providerNames,
      tools: this.tools.registry.names(),
      guardrailFunctions: this.guardrailFunctions,
      env: this.env,
      pricing: this.pricing,
    });
  }

  /** Logs that something done in the background failed. */
  logFailure(error: unknown, what: string): void {
    this.logger.error({ err: errorMessage(error) }, `nightshift: ${what} failed`);
  }

  /** Runs `work` without waiting for it, logging its failure. */
  background(work: Promise<unknown>, what: string): void {
    work.catch((error: unknown) => this.logFailure(error, what));
  }

  /** A lease on a new run for this process. */
  lease(): { leaseOwner: string; leaseExpiresAt: string } {
    return {
      leaseOwner: this.instanceId,
      leaseExpiresAt: new Date(this.now().getTime() + this.leaseTtlMs).toISOString(),
    };
  }

  notFound(agentId: string): NightshiftError {
    return new NightshiftError('agent_not_found', `no agent named "${agentId}"`, {
      details: { agent_id: agentId },
    });
  }

  /** The agent's record; `agent_not_found` when there is none. */
  async require(agentId: string): Promise<AgentRecord> {
    const { store } = await this.connect();
    const record = await store.agents.get(agentId);
    if (!record) throw this.notFound(agentId);
    return record;
  }

  /** The agent's record, refused with `config_invalid` when the stored record cannot run. */
  async requireRunnable(agentId: string): Promise<AgentRecord> {
    const record = await this.require(agentId);
    const problem = this.checker.problemOf(record);
    if (problem) {
      throw new NightshiftError(
        'config_invalid',
        `agent "${agentId}" cannot run: ${problem}; fix it with an update`,
        { details: { agent_id: agentId } },
      );
    }
    return record;
  }

  /** The dispatcher of this manager; refused when this process runs no agents or shuts down. */
  requireDispatcher(): RunDispatcher {
    if (!this.dispatcher || this.shuttingDown) {
      throw new NightshiftError(
        this.shuttingDown ? 'shutting_down' : 'invalid_state',
        this.shuttingDown
          ? 'the service is shutting down'
          : 'this process runs no agents (it manages the store only; agents run in the process that called startManager(), such as nightshift run), and its scheduler is not distributed: ask that process, or schedule with BullMQ so that any process queues runs for the workers',
        this.shuttingDown ? {} : { details: { reason: 'runs_no_agents' } },
      );
    }
    return this.dispatcher;
  }

  /** What a scheduler built for this service may know of it. */
  schedulerContext(): SchedulerContext {
    return { instanceId: this.instanceId, leaseTtlMs: this.leaseTtlMs, logger: this.logger };
  }

  /**
   * The scheduler this process schedules through: the manager's, else (distributed schedulers)
   * the producer side alone, built on first use. Undefined for a non-manager on local timers.
   */
  schedulerHandle(): TickScheduler | undefined {
    if (this.scheduler) return this.scheduler;
    if (this.shuttingDown || !this.schedulerFactory.producer) return undefined;
    this.producer ??= this.schedulerFactory.producer(this.now, this.schedulerContext());
    return this.producer;
  }

  /** Where an agent's schedule continues from: its newest dealt-with tick, or now. */
  scheduleCursor(record: AgentRecord): Date {
    const now = this.now();
    const last = record.stats.last_scheduled_at
      ? new Date(record.stats.last_scheduled_at)
      : undefined;
    return last && last > now ? last : now;
  }

  /** An agent's status as the API shows it, secrets redacted. */
  async status(record: AgentRecord): Promise<AgentStatus> {
    const { store } = await this.connect();
    const unfinished = await store.runs.list(record.agent_id, {
      status: ['running', ...WAITING_STATUSES],
      limit: 100,
    });
    const waiting = unfinished.filter((run) => isWaiting(run.status)).length;
    const running = unfinished.length - waiting;
    const problem = this.checker.problemOf(record);
    const next =
      record.state === 'active' && !problem
        ? scheduleOf(record).next(this.scheduleCursor(record))
        : undefined;
    return this.redactor.redact(buildStatus(record, running, next, problem, this.now(), waiting));
  }

  /** Announces an agent's change as `background_agent_status`, for every process to follow. */
  async publishStatus(
    record: AgentRecord,
    reason: string,
    budget?: EventPayloads['background_agent_status']['budget'],
  ): Promise<void> {
    const { publisher } = await this.connect();
    const status = await this.status(record);
    await publisher.publish('background_agent_status', record.agent_id, null, {
      state: status.state,
      is_running: status.is_running,
      pause_reason: status.pause_reason,
      next_run_at: status.next_run_at,
      reason,
      ...(budget ? { budget } : {}),
    });
  }

  /**
   * A budget stopped a call or skipped a tick: `budget_exhausted` says so each time, and the
   * agent's status is announced once per budget window (per process), saying which budget ran
   * out and when it resets.
   */
  async #budgetExhausted(
    agentId: string,
    runId: string | null,
    payload: EventPayloads['budget_exhausted'],
  ): Promise<void> {
    const { publisher, store } = await this.connect();
    await publisher.publish('budget_exhausted', agentId, runId, payload);
    const seen = `${agentId} ${payload.budget}`;
    if (this.#announcedBudgets.has(seen)) return;
    if (this.#announcedBudgets.size >= MAX_ANNOUNCED_BUDGETS) this.#announcedBudgets.clear();
    this.#announcedBudgets.add(seen);
    const record = await store.agents.get(agentId);
    if (!record) return;
    await this.publishStatus(record, `budget_exhausted: ${payload.message}`, {
      code: payload.code,
      budget: payload.budget,
      resets_at: payload.resets_at,
    });
  }
}
