import type { GuardrailFunction } from '../agent/index.js';
import type { RetentionSettings } from '../config/retention.js';
import type { TelemetryInput } from '../config/telemetry.js';
import type { NotificationsInput } from '../config/notifications.js';
import type { ModelPricing } from '../config/pricing.js';
import type { FleetBudgets } from './budgets/budget-lines.js';
import type { RegisteredProvider } from '../agent/index.js';
import type { ToolDefinition } from '../tools/index.js';
import type { ModelRequestLimiter } from './model-request-limiter.js';
import type { SchedulerSettings } from './scheduler-settings.js';
import type { TickSchedulerFactory } from './tick-scheduler.js';
import type { Partition } from './partition.js';

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
   * The functions of `agent_config.guardrails` checks of kind `function`, by the name a check
   * gives (`{ function: 'no_pii', action: 'block' }`): code, so they are registered here, like
   * tools, and never stored with a definition.
   */
  guardrails?: Record<string, GuardrailFunction>;
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
  /**
   * This manager's share of the schedules, one of `count` managers on one store (`nightshift run
   * --processes N`): its timers fire only for the agents whose stable hash of `agent_id`, mod
   * `count`, is `index` (`partitionOf`), so no tick is claimed twice in vain. Everything else
   * stays fleet-wide: manual runs run in the process asked, and any manager recovers dead runs,
   * wakes waiting runs, ends timed pauses and sweeps retention (the store decides, once). A
   * change made in any process reaches the owner through the event log. Only with the
   * in-process scheduler; `config_invalid` names a bad field (`partition.index`). Default: all.
   */
  partition?: Partition;
  /**
   * Names this process in run leases. Default: host, pid, a random suffix and the pid namespace
   * (`host:pid:suffix.scope`), which lets a process on the same machine tell that this one died
   * and take its runs over before their leases run out.
   */
  instanceId?: string;
  /**
   * Caps on model requests in flight per provider (`model_config.provider`): for this process
   * (`createProcessModelRequestLimiter({ openai: 8 })`) or fleet-wide
   * (`createRedisModelRequestLimiter({ url, limits })`). A request waits for a slot inside its
   * run's timeout. Closed with the service. Default: no cap.
   */
  modelRequestLimiter?: ModelRequestLimiter;
  /**
   * Budgets beyond each agent's own `budget_config`: the fleet's (`{ fleet: { per_day: { usd: 20 } } }`)
   * and each tag's (`{ tags: { nightly: { per_month: { usd: 50 } } } }`); days and months in UTC.
   * Held before every model request and tool call, across every process on the store.
   */
  budgets?: FleetBudgets;
  /** Prices by model name (US dollars per million tokens), over the built-in price table. */
  pricing?: Readonly<Record<string, ModelPricing>>;
  /**
   * Alerts, sent by managers in the background (never holding up a run): `targets` (`{ name,
   * type: 'webhook' | 'slack', url, secret?, events }`, a webhook signed with its `secret`), and
   * `dashboard_url` (messages link to its `/inbox`), `coalesce_seconds` (60), `max_attempts` (4),
   * `retry_delays` ([1, 5, 30] seconds), `timeout_seconds` (10). Each event is sent once per
   * target across the managers on the store, recorded as `notification_sent` or
   * `notification_failed`. URLs and secrets are redacted everywhere. `config_invalid` names a
   * bad field (`notifications.targets[0].url`).
   */
  notifications?: NotificationsInput;
  /**
   * How long history is kept, for every agent (an agent's own `retention` wins field by field):
   * `runs_days` (ended runs and their steps, by `ended_at`), `events_days` (events, by
   * `timestamp`), `messages_per_session` (the newest messages of each conversation). Managers
   * sweep in the background, a bounded batch at a time; `pruneNow()` sweeps at once. An unset
   * field keeps that kind forever (the default).
   */
  retention?: RetentionSettings;
  /**
   * Traces (OpenTelemetry): `otlp_endpoint` (spans posted over OTLP/HTTP to
   * `<otlp_endpoint>/v1/traces`; without it, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, or
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, from `env`), `service_name` (`nightshift`),
   * `capture_content` (false: prompts, replies and tool arguments and results stay off spans;
   * true: on them, redacted), `headers` (sent with each export; redacted everywhere). Each run is
   * a trace: a run span, a span per attempt, the AI SDK's model and tool call spans (GenAI
   * attributes) under it; the run's events carry its `trace_id`. With no endpoint, nothing is
   * traced. Flushed by `shutdown()`.
   */
  telemetry?: TelemetryInput;
  /** How often a manager sweeps for retention (default 10 minutes). */
  retentionIntervalMs?: number;
  /**
   * Items one retention store call removes at most (default 500 runs, 1,000 events or
   * messages): smaller holds each write lock for less time. A periodic sweep makes at most 10
   * such calls per kind and agent; the next sweep goes on.
   */
  retentionBatchSize?: number;
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
  query?: string | undefined;
  /** Resolve when the run has ended instead of as soon as it is dispatched. */
  wait?: boolean | undefined;
}

/** A run's lease length when `leaseTtlMs` is not given. */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** The grace for runs in flight at shutdown when `shutdownTimeoutMs` is not given. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** How often a manager syncs when `syncIntervalMs` is not given: half a lease, at least 100 ms. */
export function defaultSyncIntervalMs(leaseTtlMs: number): number {
  return Math.max(100, Math.floor(leaseTtlMs / 2));
}

/** The logger used when none is given. */
export const silentLogger: ServiceLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
