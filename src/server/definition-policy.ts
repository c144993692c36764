import type { AgentDefinition } from '../config/agent-definition.js';
import { envReferenceNames } from '../config/env-references.js';
import { NightshiftError, type FieldError } from '../errors.js';
import { errorBody, invalidField, type ApiErrorBody } from './api-error.js';
import { TOKEN_ENV, type ResolvedAppOptions } from './app-options.js';

const SCHEDULE_KINDS = ['interval', 'cron', 'run_at'] as const;
const MORE_ENV_HINT = "the server's operator allows more with server.allowed_env";

/**
 * What a definition (POST) or a patch (PATCH) sent over HTTP may ask of this process, beyond
 * what the service validates: the service trusts its callers (code, the operator's files),
 * while anyone who reaches the API may be someone else. Throws `config_invalid` for a body
 * that may never be accepted; answers the body of a 403 for one that needs a token first.
 * `stored` is the agent's current definition for a patch, read only when it matters.
 */
export async function checkDefinitionChange(
  options: ResolvedAppOptions,
  input: Record<string, unknown>,
  stored: (() => Promise<AgentDefinition>) | undefined,
): Promise<ApiErrorBody | undefined> {
  if (stored !== undefined) checkScheduleKinds(input);
  checkEnvironmentNames(input, options);
  // With a token, the token guard has already authenticated this request.
  if (options.token !== undefined || options.allowUnauthenticatedChanges) return undefined;
  const problems = newCommandsAndUrls(input, stored === undefined ? undefined : await stored());
  const first = problems[0];
  if (first === undefined) return undefined;
  return errorBody(
    'token_required',
    `${first.path}: ${first.message}; over HTTP, agents that run commands or reach new URLs may be created or changed only on a server with a token (set NIGHTSHIFT_TOKEN or server.token), or with server.allow_unauthenticated_changes: true`,
    problems,
  );
}

/**
 * A patch may set only one schedule kind: the service's merge keeps one of several and drops
 * the others without a word. `null` (removing a kind) does not count.
 */
function checkScheduleKinds(patch: Record<string, unknown>): void {
  const set = SCHEDULE_KINDS.filter((kind) => patch[kind] !== undefined && patch[kind] !== null);
  const second = set[1];
  if (second !== undefined) {
    throw invalidField(second, 'only one of interval, cron or run_at may be set');
  }
}

/**
 * `model_config.api_key_env` and every `${NAME}` reference may name only variables the operator
 * allows, and never one holding the server's token: the service resolves them from its own
 * environment, so a caller could otherwise read any of the server's secrets (send one to its
 * own `base_url`, say, or have the model repeat it).
 */
function checkEnvironmentNames(input: Record<string, unknown>, options: ResolvedAppOptions): void {
  const holdsToken = (name: string) =>
    name === TOKEN_ENV || (options.token !== undefined && options.env[name] === options.token);
  const allowed = options.allowedEnv.filter((name) => !holdsToken(name));
  const allowedList = allowed.length === 0 ? 'none' : allowed.join(', ');
  const fields: FieldError[] = [];
  const seen = new Set<string>();
  const refuse = (path: string, name: string, verb: 'name' | 'reference') => {
    if (allowed.includes(name) || seen.has(`${path}\u0000${name}`)) return;
    seen.add(`${path}\u0000${name}`);
    // Only a listed name hears that it holds the token: others learn nothing of the environment.
    const message = options.allowedEnv.includes(name)
      ? `may not ${verb} ${name}, which holds the server's token`
      : verb === 'name'
        ? `may name only allowed environment variables (${allowedList}); ${MORE_ENV_HINT}`
        : `may reference only allowed environment variables (${allowedList}), not ${name}; ${MORE_ENV_HINT}`;
    fields.push({ path, message });
  };

  const modelConfig = input.model_config;
  if (isRecord(modelConfig) && typeof modelConfig.api_key_env === 'string') {
    refuse('model_config.api_key_env', modelConfig.api_key_env, 'name');
  }
  for (const { path, name } of envReferenceNames(input)) refuse(path, name, 'reference');
  if (fields.length === 0) return;
  const message = fields.map((field) => `${field.path}: ${field.message}`).join('; ');
  throw new NightshiftError('config_invalid', message, { fields });
}

/**
 * The stdio MCP servers (commands) and URLs of `input` that `stored` does not already have:
 * all of them for a new agent. A patch that keeps what is stored (the same command with the
 * same arguments and environment, the same URL) adds nothing.
 */
function newCommandsAndUrls(
  input: Record<string, unknown>,
  stored: AgentDefinition | undefined,
): FieldError[] {
  const problems: FieldError[] = [];
  const storedCommands = new Set(
    (stored?.mcp_tools ?? []).filter(runsCommand).map((server) => commandKey(server)),
  );
  const storedUrls = new Set((stored?.mcp_tools ?? []).map((server) => server.url));
  const servers = Array.isArray(input.mcp_tools) ? (input.mcp_tools as unknown[]) : [];
  servers.forEach((server, index) => {
    if (!isRecord(server)) return;
    if (runsCommand(server) && !storedCommands.has(commandKey(server))) {
      problems.push({
        path: `mcp_tools[${index}]`,
        message: 'runs a command (a stdio MCP server)',
      });
    }
    if (typeof server.url === 'string' && !storedUrls.has(server.url)) {
      problems.push({ path: `mcp_tools[${index}].url`, message: 'is a new URL' });
    }
  });
  const modelConfig = input.model_config;
  if (
    isRecord(modelConfig) &&
    typeof modelConfig.base_url === 'string' &&
    modelConfig.base_url !== stored?.model_config.base_url
  ) {
    problems.push({ path: 'model_config.base_url', message: 'is a new URL' });
  }
  return problems;
}

/** An MCP server entry that starts a process: stdio, written or by default, or with a command. */
function runsCommand(
  server: Record<string, unknown> | AgentDefinition['mcp_tools'][number],
): boolean {
  return (
    server.transport_type === undefined ||
    server.transport_type === 'stdio' ||
    server.command !== undefined
  );
}

/** What a command entry runs, as one comparable string (environment keys in order). */
function commandKey(
  server: Record<string, unknown> | AgentDefinition['mcp_tools'][number],
): string {
  const env = isRecord(server.env) ? server.env : {};
  return JSON.stringify([
    server.command ?? null,
    server.args ?? [],
    Object.entries(env).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)),
  ]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
