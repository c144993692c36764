import type { z } from 'zod';
import { NightshiftError, type FieldError } from '../errors.js';
import type { AgentDefinition } from './agent-definition.js';
import { describeFields, issuesToFieldErrors, requiredErrorMap } from './format-issues.js';
import { envReferenceNames } from './env-references.js';
import { interpolateEnv } from './interpolate-env.js';
import { notificationSecrets } from './notifications.js';
import { telemetrySecrets } from './telemetry.js';
import { keepReferencesAsWritten } from './keep-references-as-written.js';
import { SECRET_NAME } from './secret-name.js';
import {
  eventsSectionSchema,
  memorySectionSchema,
  nightshiftFileSchema,
  serviceSectionsSchema,
  type NightshiftFile,
  type ServiceSections,
  type StorageSections,
} from './nightshift-file.js';
import { checkAgentDefinition } from './parse-agent-definition.js';
import { readConfigDocument } from './read-config-document.js';
import {
  missingSettingHint,
  resolveToolSettings,
  toolSettingSecrets,
  toolsEnabledBy,
} from './tool-settings.js';

/** Options of {@link loadNightshiftFile}. */
export interface LoadNightshiftFileOptions {
  /** The environment `${NAME}` references and API keys are read from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Names of the tools agents may list, besides those the file's own settings enable (`files`
   * enables `file_write`, `webhooks` `notify`, `connections` `sql_query` and `sql_archive`).
   * When omitted, tool names are not checked.
   */
  tools?: readonly string[];
  /** Names of providers registered in code, besides the built-in ones. */
  providers?: readonly string[];
  /** What relative directories of the tool settings are resolved against. Default `process.cwd()`. */
  cwd?: string;
}

/**
 * Loads a Nightshift file (`.yaml`, `.yml` or `.json`): `memory`, `events`, `server`,
 * `scheduler`, the tool settings and `agents`, with `${NAME}` / `${NAME:-default}` read from the
 * environment and every agent validated like `create()` would, on the values the references
 * stand for. The definitions returned keep the references as written where text, addresses and
 * credentials go (see {@link keepReferencesAsWritten}); the service reads them at use. Every problem of the file is collected into one `config_invalid`
 * error whose `fields` name each one by path (`agents[0].interval: must be greater than 0`).
 */
export function loadNightshiftFile(
  path: string,
  options: LoadNightshiftFileOptions = {},
): NightshiftFile {
  const env = options.env ?? process.env;
  const document = readTopLevel(path);
  const interpolated = interpolateEnv(document, { env, keepAsWritten: isResolvedAtConnect });
  const writtenAgents = Array.isArray(document.agents) ? (document.agents as unknown[]) : [];
  const fields: FieldError[] = [];
  const parsed = nightshiftFileSchema.safeParse(interpolated.value, { error: requiredErrorMap });
  if (!parsed.success) {
    fields.push(...issuesToFieldErrors(parsed.error.issues, [], nightshiftFileSchema));
  }

  const agentInputs = Array.isArray(interpolated.value.agents)
    ? (interpolated.value.agents as unknown[])
    : [];
  // Judged on the settings as written, so a bad setting is reported once, by its own path.
  const tools = options.tools && [...options.tools, ...toolsEnabledBy(interpolated.value)];
  const agents: AgentDefinition[] = [];
  const firstIndexById = new Map<string, number>();
  agentInputs.forEach((input, index) => {
    const checked = checkAgentDefinition(input, {
      path: ['agents', index],
      env,
      ...(tools ? { tools } : {}),
      ...(options.providers ? { providers: options.providers } : {}),
      ...(parsed.success && parsed.data.pricing ? { pricing: parsed.data.pricing } : {}),
    });
    fields.push(...checked.fields.map(withSettingHint));
    if (checked.definition) {
      agents.push(keepReferencesAsWritten(checked.definition, writtenAgents[index]));
    }
    const agentId = (input as { agent_id?: unknown } | null)?.agent_id;
    if (typeof agentId !== 'string') return;
    const first = firstIndexById.get(agentId);
    if (first === undefined) firstIndexById.set(agentId, index);
    else
      fields.push({
        path: `agents[${index}].agent_id`,
        message: `duplicate "${agentId}" (also agents[${first}])`,
      });
  });

  const problems = mergeInterpolationFields(interpolated.fields, fields);
  if (problems.length > 0 || !parsed.success) throw invalidFile(path, problems);
  const { agents: _agents, ...sections } = document;
  return {
    // Agents keep their references, so only what the sections read counts among the secrets.
    ...serviceSections(
      path,
      parsed.data,
      [...interpolateEnv(sections, { env }).secrets, ...secretNamedValues(writtenAgents, env)],
      options.cwd ?? process.cwd(),
    ),
    agents,
    agentInputs,
  };
}

/**
 * Loads every section of a Nightshift file except its agents, for a process that runs none
 * (`nightshift serve`): the agents are neither required nor checked.
 */
export function loadServiceSections(
  path: string,
  options: Pick<LoadNightshiftFileOptions, 'env' | 'cwd'> = {},
): ServiceSections {
  const { agents: _agents, ...document } = readTopLevel(path);
  const interpolated = interpolateEnv(document, { env: options.env ?? process.env });
  const parsed = serviceSectionsSchema.safeParse(interpolated.value, { error: requiredErrorMap });
  const problems = mergeInterpolationFields(
    interpolated.fields,
    parsed.success ? [] : issuesToFieldErrors(parsed.error.issues, [], serviceSectionsSchema),
  );
  if (problems.length > 0 || !parsed.success) throw invalidFile(path, problems);
  return serviceSections(path, parsed.data, interpolated.secrets, options.cwd ?? process.cwd());
}

/**
 * Loads only where a Nightshift file keeps its memory and events, for commands that inspect a
 * store: its agents are not checked, so a file whose agents need keys this shell lacks still works.
 */
export function loadStorageSections(
  path: string,
  options: Pick<LoadNightshiftFileOptions, 'env'> = {},
): StorageSections {
  const document = readTopLevel(path);
  const sections = { memory: document.memory ?? {}, events: document.events ?? {} };
  const interpolated = interpolateEnv(sections, { env: options.env ?? process.env });
  const memory = memorySectionSchema.safeParse(interpolated.value.memory, {
    error: requiredErrorMap,
  });
  const events = eventsSectionSchema.safeParse(interpolated.value.events, {
    error: requiredErrorMap,
  });
  const fields = [
    ...(memory.success ? [] : issuesToFieldErrors(memory.error.issues, ['memory'])),
    ...(events.success ? [] : issuesToFieldErrors(events.error.issues, ['events'])),
  ];
  const problems = mergeInterpolationFields(interpolated.fields, fields);
  if (problems.length > 0 || !memory.success || !events.success) {
    throw invalidFile(path, problems);
  }
  return { path, memory: memory.data, events: events.data, secrets: interpolated.secrets };
}

/**
 * True for the values of an agent's MCP server `env` and `headers`
 * (`agents[0].mcp_tools[1].env.GITHUB_TOKEN`), where credentials go: the MCP transport resolves
 * them when it connects, so a stored definition holds the reference, never the secret
 * (promise 8). Loading still reports an unset variable, and counts its value among the secrets.
 */
function isResolvedAtConnect(path: readonly PropertyKey[]): boolean {
  const [agents, agentIndex, servers, serverIndex, field, name] = path;
  return (
    path.length === 6 &&
    agents === 'agents' &&
    typeof agentIndex === 'number' &&
    servers === 'mcp_tools' &&
    typeof serverIndex === 'number' &&
    (field === 'env' || field === 'headers') &&
    typeof name === 'string'
  );
}

/**
 * The values of the variables agents reference whose names say they hold secrets: the service
 * resolves them at use, and what they resolve to must never be printed.
 */
function secretNamedValues(
  agents: readonly unknown[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  return envReferenceNames(agents).flatMap(({ name }) => {
    const value = env[name];
    return SECRET_NAME.test(name) && value ? [value] : [];
  });
}

/** The parsed sections as the service and the server take them. */
function serviceSections(
  path: string,
  data: z.output<typeof serviceSectionsSchema>,
  environmentValues: readonly string[],
  cwd: string,
): ServiceSections {
  const {
    memory,
    events,
    server,
    scheduler,
    pricing,
    budgets,
    notifications,
    retention,
    telemetry,
    ...settings
  } = data;
  const toolSettings = resolveToolSettings(settings, cwd);
  const token = server?.token === '' ? undefined : server?.token;
  return {
    path,
    memory,
    events,
    server: server && {
      host: server.host,
      port: server.port,
      ...(token ? { token } : {}),
      ...(server.allowed_env ? { allowed_env: server.allowed_env } : {}),
      ...(server.allow_unauthenticated_changes === undefined
        ? {}
        : { allow_unauthenticated_changes: server.allow_unauthenticated_changes }),
    },
    scheduler,
    pricing: pricing ?? {},
    budgets: budgets ?? {},
    notifications,
    retention: retention ?? {},
    telemetry,
    toolSettings,
    secrets: [
      ...new Set([
        ...environmentValues,
        ...(token ? [token] : []),
        ...toolSettingSecrets(toolSettings),
        ...notificationSecrets(notifications),
        ...telemetrySecrets(telemetry),
      ]),
    ],
  };
}

/** An unknown-tool error for a tool that a missing setting would enable says which setting. */
function withSettingHint(field: FieldError): FieldError {
  const tool = /^unknown tool "([^"]+)"/.exec(field.message)?.[1];
  const hint = tool === undefined ? undefined : missingSettingHint(tool);
  return hint === undefined ? field : { path: field.path, message: `${field.message}; ${hint}` };
}

/** The file's top level, which must be a mapping. */
function readTopLevel(path: string): Record<string, unknown> {
  const document = readConfigDocument(path);
  if (document === null || document === undefined) {
    throw new NightshiftError('config_invalid', `${path}: the file is empty`, {
      details: { file: path },
    });
  }
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new NightshiftError(
      'config_invalid',
      `${path}: the file must hold a mapping with memory, events and agents`,
      { details: { file: path } },
    );
  }
  return document as Record<string, unknown>;
}

/**
 * Interpolation problems first; a value whose reference failed is not also reported for the
 * shape the unreplaced `${…}` text has.
 */
function mergeInterpolationFields(
  interpolation: readonly FieldError[],
  validation: readonly FieldError[],
): FieldError[] {
  const failed = new Set(interpolation.map((field) => field.path));
  return [...interpolation, ...validation.filter((field) => !failed.has(field.path))];
}

function invalidFile(path: string, fields: FieldError[]): NightshiftError {
  return new NightshiftError(
    'config_invalid',
    `invalid Nightshift file ${path}: ${describeFields(fields)}`,
    { fields, details: { file: path } },
  );
}
