import type { AgentDefinition } from '../config/agent-definition.js';
import type { ServiceSections } from '../config/nightshift-file.js';
import {
  errorMessage,
  NightshiftError,
  type FieldError,
  type NightshiftErrorCode,
} from '../errors.js';
import { redactDefinition } from '../server/index.js';
import {
  BackgroundAgentService,
  type AgentStatus,
  type ListAgentsOptions,
  type PauseOptions,
  type RunNowOptions,
  type TagActionResult,
  type TagSelection,
} from '../service/index.js';
import type { ListRunsOptions, RunRecord } from '../storage/index.js';
import { ApiClient } from './api-client.js';
import type { CliContext } from './cli-context.js';
import { createLogger } from './create-logger.js';
import { openInspectionService, type StoreSelection } from './inspection-service.js';
import { loadServableFile } from './load-runnable-file.js';
import type { FileRouters } from './open-routers.js';
import { createRedactor, type Redactor } from './redact.js';
import type { DefinitionTarget } from './sync-agents.js';

/** What the CLI asks of a fleet: the service's own methods, which the API client shares. */
export interface FleetControl {
  listAgents(options?: ListAgentsOptions): Promise<AgentStatus[]>;
  getAgentStatus(agentId: string): Promise<AgentStatus>;
  pauseAgent(agentId: string, options?: PauseOptions): Promise<AgentStatus>;
  resumeAgent(agentId: string): Promise<AgentStatus>;
  pauseAgents(selection: TagSelection, options?: PauseOptions): Promise<TagActionResult>;
  resumeAgents(selection: TagSelection): Promise<TagActionResult>;
  stopAgent(agentId: string, options?: { cancel?: boolean }): Promise<AgentStatus>;
  runNow(agentId: string, options?: RunNowOptions): Promise<RunRecord>;
  listRuns(agentId: string, options?: ListRunsOptions): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunRecord>;
}

/** Where a command reaches the fleet: a store, or a server's HTTP API. */
export interface TargetSelection extends StoreSelection {
  /** The server's base URL (`--url`); default `NIGHTSHIFT_URL` unless a store is chosen. */
  url?: string;
  /** Its bearer token (`--token`); default `NIGHTSHIFT_TOKEN`. */
  token?: string;
}

/** An opened target. */
export interface FleetTarget {
  fleet: FleetControl;
  /** The API client, when the target is a server. */
  api: ApiClient | undefined;
  /** Where it is, safe to print. */
  description: string;
  redact: Redactor;
  close(): Promise<void>;
}

/** The server URL a selection means: `--url`, else `NIGHTSHIFT_URL` unless a store is chosen. */
export function selectedUrl(
  selection: TargetSelection,
  env: Record<string, string | undefined>,
): string | undefined {
  const storeChosen = selection.memory !== undefined || selection.file !== undefined;
  if (selection.url !== undefined && storeChosen) {
    throw new NightshiftError('config_invalid', 'use either --url or --memory / --file, not both');
  }
  if (selection.token !== undefined && storeChosen) {
    throw new NightshiftError('config_invalid', '--token goes with --url, not --memory / --file');
  }
  const url = selection.url ?? (storeChosen ? undefined : env.NIGHTSHIFT_URL);
  return url === '' ? undefined : url;
}

/** A server's API client, and the redactor that hides its token. */
export interface SelectedApi {
  api: ApiClient;
  redact: Redactor;
}

/** The API client of a selection that names a server (`--url`, `NIGHTSHIFT_URL`), or undefined. */
export function selectedApi(
  selection: TargetSelection,
  env: Record<string, string | undefined>,
): SelectedApi | undefined {
  const url = selectedUrl(selection, env);
  if (url === undefined) return undefined;
  const token = selection.token ?? env.NIGHTSHIFT_TOKEN;
  return {
    api: new ApiClient({ url, ...(token ? { token } : {}) }),
    redact: createRedactor(token ? [token] : []),
  };
}

/** A server's API client, its redactor, and a printer to standard output that redacts. */
export interface RequiredApi extends SelectedApi {
  say: (line: string) => void;
}

/**
 * The API client of a selection for a command that needs a running Nightshift (a store read
 * directly has no process to ask); `config_invalid` saying so, with `why`, when none is named.
 */
export function requireSelectedApi(
  selection: TargetSelection,
  context: CliContext,
  why: string,
): RequiredApi {
  const selected = selectedApi(selection, context.env);
  if (!selected) {
    throw new NightshiftError(
      'config_invalid',
      `${why}: pass --url of its HTTP API (or set NIGHTSHIFT_URL)`,
    );
  }
  return { ...selected, say: (line) => context.out(selected.redact(line)) };
}

/**
 * Opens what a command works on: the HTTP API of a running Nightshift (`--url`, or
 * `NIGHTSHIFT_URL` when no store is chosen), else a store read directly (`--memory`, `--file`,
 * else `DATABASE_URL` or the embedded SQLite file) through a service that runs nothing.
 */
function openFleetTarget(
  selection: TargetSelection,
  env: Record<string, string | undefined>,
): FleetTarget {
  const selected = selectedApi(selection, env);
  if (selected) {
    const { api, redact } = selected;
    return { fleet: api, api, description: api.url, redact, close: async () => undefined };
  }
  const { service, description, redact } = openInspectionService(selection, env);
  return { fleet: service, api: undefined, description, redact, close: () => service.shutdown() };
}

/** Opens the target, runs `work` with a printer that redacts, and always closes the target. */
export async function withFleetTarget<T>(
  selection: TargetSelection,
  context: CliContext,
  work: (target: FleetTarget, say: (line: string) => void) => Promise<T>,
): Promise<T> {
  const target = openFleetTarget(selection, context.env);
  try {
    return await work(target, (line) => context.out(target.redact(line)));
  } finally {
    await target.close();
  }
}

/** What the commands that create, change and delete agents ask of a fleet. */
export interface AgentAdministration extends DefinitionTarget {
  /** Stores a new agent, validated by the target; a definition as written is stored as written. */
  create(definition: AgentDefinition | Record<string, unknown>): Promise<AgentStatus>;
  getAgentStatus(agentId: string): Promise<AgentStatus>;
  deleteAgent(agentId: string): Promise<void>;
}

/** An opened target for changing agents. */
export interface AdministrationTarget {
  agents: AgentAdministration;
  /** True for a server: it shows definitions with some values hidden (see {@link comparableOn}). */
  server: boolean;
  /** Where it is, safe to print. */
  description: string;
  redact: Redactor;
  close(): Promise<void>;
}

/**
 * Opens what `agents apply`, `create` and `delete` change: the HTTP API of a running Nightshift
 * (`--url`, or `NIGHTSHIFT_URL` when no store is chosen); else the store of a Nightshift file
 * (`loaded` by the command, or `--file`), with its event log, so that every manager hears of the
 * change at once, and its tool settings and scheduler, so that the tools it enables are accepted
 * and a BullMQ fleet is rescheduled; else a store named by `--memory` (or `DATABASE_URL`, or the
 * embedded file), through a service that knows only the built-in tools and keeps its events to
 * itself: managers sharing that store take the change at their next sync.
 */
function openAdministrationTarget(
  selection: TargetSelection,
  context: CliContext,
  loaded?: { config: ServiceSections; routers: FileRouters },
): AdministrationTarget {
  const selected = selectedApi(selection, context.env);
  if (selected) {
    const { api, redact } = selected;
    const token = selection.token ?? context.env.NIGHTSHIFT_TOKEN;
    return {
      agents: new AgentChangeClient(api, token),
      server: true,
      description: api.url,
      redact,
      close: async () => undefined,
    };
  }
  // A file whose store is in_memory is refused: a change there would be lost at exit.
  const file =
    loaded ??
    (selection.file === undefined ? undefined : loadServableFile(selection.file, context.env));
  if (file) {
    const { config, routers } = file;
    const redact = createRedactor(config.secrets);
    const service = new BackgroundAgentService(routers.memory, routers.events, {
      env: context.env,
      secrets: config.secrets,
      toolSettings: config.toolSettings,
      scheduler: config.scheduler,
      logger: createLogger('warn', redact),
    });
    return {
      agents: service,
      server: false,
      description: routers.memory.description,
      redact,
      close: () => service.shutdown({ timeout: 0 }),
    };
  }
  const { service, description, redact } = openInspectionService(selection, context.env);
  return {
    agents: service,
    server: false,
    description,
    redact,
    close: () => service.shutdown({ timeout: 0 }),
  };
}

/** Opens the target, runs `work` with a printer that redacts, and always closes the target. */
export async function withAdministrationTarget<T>(
  selection: TargetSelection,
  context: CliContext,
  work: (target: AdministrationTarget, say: (line: string) => void) => Promise<T>,
  loaded?: { config: ServiceSections; routers: FileRouters },
): Promise<T> {
  const target = openAdministrationTarget(selection, context, loaded);
  try {
    return await work(target, (line) => context.out(target.redact(line)));
  } finally {
    await target.close();
  }
}

/**
 * How a definition compares with the stored one on a target: a server hides MCP `env` and
 * `headers` values and URL passwords and query values, so the file's definition is hidden the
 * same way before it is compared.
 */
export function comparableOn(
  target: AdministrationTarget,
): ((definition: AgentDefinition) => AgentDefinition) | undefined {
  return target.server ? redactDefinition : undefined;
}

/** Codes the agent routes answer with that are the service's own; others concern the request. */
const SERVICE_CODES: ReadonlySet<string> = new Set<NightshiftErrorCode>([
  'config_invalid',
  'agent_not_found',
  'agent_exists',
  'invalid_state',
  'missing_api_key',
  'storage_unavailable',
  'shutting_down',
  'internal',
]);

/**
 * Creating, changing, starting and deleting agents through a server's HTTP API, with the
 * service's method names (the API client covers reading and the lifecycle buttons). Whether
 * the server can be reached at all, and accepts the token, the commands learn first through the
 * API client's `listAgents`, whose errors say so; a refusal here is the server's judgement of the
 * change, kept with its code and fields.
 */
class AgentChangeClient implements AgentAdministration {
  readonly #api: ApiClient;
  readonly #token: string | undefined;

  constructor(api: ApiClient, token: string | undefined) {
    this.#api = api;
    this.#token = token === '' ? undefined : token;
  }

  /** Every agent's status, ordered by id. */
  listAgents(): Promise<AgentStatus[]> {
    return this.#api.listAgents();
  }

  /** One agent's status. */
  getAgentStatus(agentId: string): Promise<AgentStatus> {
    return this.#api.getAgentStatus(agentId);
  }

  /** `GET /api/agents/{id}/definition`: as stored, with credentials hidden. */
  getAgentDefinition(agentId: string): Promise<AgentDefinition> {
    return this.#request('GET', `${agentPath(agentId)}/definition`);
  }

  /** `POST /api/agents`: a new agent, state `created`. */
  create(definition: AgentDefinition | Record<string, unknown>): Promise<AgentStatus> {
    return this.#request('POST', '/api/agents', definition);
  }

  /** `PATCH /api/agents/{id}`: nested configs merge key by key, `null` removes a key. */
  updateAgent(agentId: string, patch: Record<string, unknown>): Promise<AgentStatus> {
    return this.#request('PATCH', agentPath(agentId), patch);
  }

  /** `POST /api/agents/{id}/start`: on its schedule. */
  startAgent(agentId: string): Promise<AgentStatus> {
    return this.#request('POST', `${agentPath(agentId)}/start`, {});
  }

  /** `DELETE /api/agents/{id}`: the agent, its runs and its conversation. */
  async deleteAgent(agentId: string): Promise<void> {
    await this.#request('DELETE', agentPath(agentId));
  }

  async #request<T>(method: string, path: string, body?: object): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let response: Response;
    try {
      response = await fetch(`${this.#api.url}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(30_000),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new NightshiftError(
        'storage_unavailable',
        `the server at ${this.#api.url} did not answer ${method} ${path} (${errorMessage(error)})`,
        { cause: error },
      );
    }
    const answer: unknown = await response.json().catch(() => undefined);
    if (response.ok) return answer as T;
    throw refusal(this.#api.url, method, path, response.status, answer);
  }
}

function agentPath(agentId: string): string {
  return `/api/agents/${encodeURIComponent(agentId)}`;
}

/** The error a refused change stands for, from the server's `{ error }` body. */
function refusal(
  url: string,
  method: string,
  path: string,
  status: number,
  answer: unknown,
): NightshiftError {
  const error = (answer as { error?: { code?: unknown; message?: unknown; fields?: unknown } })
    ?.error;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const message = typeof error?.message === 'string' ? error.message : undefined;
  const fields = Array.isArray(error?.fields) ? (error.fields as FieldError[]) : [];
  const details = { status, ...(code ? { api_code: code } : {}) };
  if (code === undefined || message === undefined) {
    return new NightshiftError(
      status >= 500 ? 'storage_unavailable' : 'config_invalid',
      `the server at ${url} answered HTTP ${status} to ${method} ${path}, not as a Nightshift API does (is --url right?)`,
      { details },
    );
  }
  if (SERVICE_CODES.has(code)) {
    return new NightshiftError(code as NightshiftErrorCode, message, { fields, details });
  }
  // token_required, unauthorized, payload_too_large …: the server's own refusals of the request.
  return new NightshiftError(
    'config_invalid',
    `the server at ${url} refused ${method} ${path}: ${message}`,
    {
      fields,
      details,
    },
  );
}
