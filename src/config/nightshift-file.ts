import { z } from 'zod';
import {
  modelPricingSchema,
  sharedWindowBudgetsSchema,
  tagNameSchema,
  type AgentDefinition,
} from './agent-definition.js';
import { notificationsSectionSchema, type NotificationsSection } from './notifications.js';
import { retentionSchema, type RetentionSettings } from './retention.js';
import { telemetrySchema, type TelemetrySettings } from './telemetry.js';
import { toolSettingsFields, type ToolSettingsSection } from './tool-settings.js';

/** Where the HTTP server listens unless the file says otherwise (the server's own defaults). */
export const DEFAULT_SERVER_HOST = '127.0.0.1';
/** The HTTP server's port unless the file says otherwise. */
export const DEFAULT_SERVER_PORT = 7420;

/** A whole number in bounds; a string of digits counts, since `${NAME}` always yields text. */
const wholeNumber = (minimum: number, maximum: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
    z
      .number()
      .int({ error: 'must be a whole number' })
      .min(minimum, { error: `must be at least ${minimum}` })
      .max(maximum, { error: `must be at most ${maximum}` }),
  );

/** Where the service's memory lives, as a Nightshift file says it. */
export const memorySectionSchema = z.strictObject({
  backend: z.enum(['in_memory', 'database', 'redis']).default('database'),
  /** A database or Redis URL; without one, the router's default (`DATABASE_URL`, else the embedded SQLite file). */
  url: z.string().min(1, { error: 'must not be empty' }).optional(),
});

/** Where the event log lives, as a Nightshift file says it. */
export const eventsSectionSchema = z.strictObject({
  backend: z.enum(['in_memory', 'database', 'redis_stream']).default('database'),
  url: z.string().min(1, { error: 'must not be empty' }).optional(),
});

/** Where the HTTP API and dashboard listen. Its presence makes `nightshift run` serve them. */
export const serverSectionSchema = z.strictObject({
  host: z.string().min(1, { error: 'must not be empty' }).default(DEFAULT_SERVER_HOST),
  /** 0 picks a free port. */
  port: wholeNumber(0, 65_535).default(DEFAULT_SERVER_PORT),
  /** The bearer token of `/api` and `/metrics`; without it, `NIGHTSHIFT_TOKEN`; empty is none. */
  token: z.string().optional(),
  /**
   * Environment variables definitions sent over the API may name (`api_key_env`, `${NAME}`);
   * without it, the providers' standard API key variables. Never the token's variable.
   */
  allowed_env: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name' }),
    )
    .optional(),
  /** Accept agents that run commands or reach new URLs over the API without a token; default false. */
  allow_unauthenticated_changes: z.boolean().optional(),
});

/** Where ticks come from: in-process timers, or BullMQ job schedulers on Redis. */
const schedulerSectionSchema = z.strictObject({
  kind: z.enum(['local', 'bullmq']).default('local'),
  /** The Redis URL of a `bullmq` scheduler. */
  url: z.string().min(1, { error: 'must not be empty' }).optional(),
  /** Runs one worker process takes at once. */
  concurrency: wholeNumber(1, 10_000).optional(),
});

/** Every section of a Nightshift file except its agents. */
const serviceSectionFields = {
  memory: memorySectionSchema.default({ backend: 'database' }),
  events: eventsSectionSchema.default({ backend: 'database' }),
  server: serverSectionSchema.optional(),
  scheduler: schedulerSectionSchema.default({ kind: 'local' }),
  /** Prices by model name (US dollars per million tokens), over the built-in table. */
  pricing: z.record(z.string().min(1), modelPricingSchema).optional(),
  /** Budgets beyond each agent's own: the fleet's and each tag's, per UTC day and month. */
  budgets: z
    .strictObject({
      fleet: sharedWindowBudgetsSchema.optional(),
      tags: z.record(tagNameSchema, sharedWindowBudgetsSchema).optional(),
    })
    .optional(),
  /** Alerts: where they go (webhooks, Slack) and which events each target is sent. */
  notifications: notificationsSectionSchema.optional(),
  /** How long runs, events and messages are kept: every agent's defaults (its own `retention` wins). */
  retention: retentionSchema.optional(),
  /** Traces (OpenTelemetry): where spans go, and whether they carry prompts and replies. */
  telemetry: telemetrySchema.optional(),
  ...toolSettingsFields,
};

/** A Nightshift file without its agents: what a process that runs none (`serve`) reads. */
export const serviceSectionsSchema = z.strictObject(serviceSectionFields);

/**
 * The top level of a Nightshift file. Agents are checked one by one afterwards (with the
 * registered tools and providers), so here they are only required to be a list.
 */
export const nightshiftFileSchema = z.strictObject({
  ...serviceSectionFields,
  agents: z.array(z.unknown(), {
    error: (issue) =>
      issue.input === undefined ? 'required' : 'must be a list of agent definitions',
  }),
});

/** The `memory` section with defaults filled in. */
export type MemorySection = z.output<typeof memorySectionSchema>;
/** The `events` section with defaults filled in. */
export type EventsSection = z.output<typeof eventsSectionSchema>;
/** The `server` section with defaults filled in. */
export type ServerSection = z.output<typeof serverSectionSchema>;
/** The `budgets` section. */
export type BudgetsSection = NonNullable<z.output<typeof serviceSectionsSchema>['budgets']>;
/** The `scheduler` section with defaults filled in. */
export type SchedulerSection = z.output<typeof schedulerSectionSchema>;

/** The sections of a loaded Nightshift file that configure the service and the server. */
export interface ServiceSections {
  /** The file it was read from, as given. */
  path: string;
  memory: MemorySection;
  events: EventsSection;
  /** The `server` block as written (defaults filled in; an empty token is none); undefined when absent. */
  server: ServerSection | undefined;
  scheduler: SchedulerSection;
  /** The `pricing:` block: prices by model name ({} when absent). */
  pricing: Record<string, z.output<typeof modelPricingSchema>>;
  /** The `budgets:` block: the fleet's and the tags' budgets ({} when absent). */
  budgets: BudgetsSection;
  /** The `notifications:` block (defaults filled in); undefined when absent. */
  notifications: NotificationsSection | undefined;
  /** The `retention:` block: the fleet-wide defaults ({} when absent: everything is kept). */
  retention: RetentionSettings;
  /** The `telemetry:` block; undefined when absent (then only `OTEL_EXPORTER_OTLP_ENDPOINT` traces). */
  telemetry: TelemetrySettings | undefined;
  /** `files`, `webhooks`, `connections`, `archive_directory`, directories made absolute. */
  toolSettings: ToolSettingsSection;
  /**
   * Values never to print: those the file read from the environment (they may be keys or
   * passwords), the server token, webhook and connection URLs, notification target URLs and
   * secrets, telemetry headers.
   */
  secrets: string[];
}

/** A loaded, validated Nightshift file. */
export interface NightshiftFile extends ServiceSections {
  /** Every agent, validated, defaults filled in, in file order. */
  agents: AgentDefinition[];
  /**
   * The agents as written (after `${ENV}` interpolation, before defaults), in file order. The
   * `env` and `headers` of MCP servers keep their references, here and in `agents`: they are
   * resolved when the server is connected.
   */
  agentInputs: unknown[];
}

/** Only where a Nightshift file keeps its memory and events (what the inspection commands need). */
export type StorageSections = Pick<ServiceSections, 'path' | 'memory' | 'events' | 'secrets'>;
