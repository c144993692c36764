import { NightshiftError } from '../errors.js';
import type { CliContext } from './cli-context.js';
import type { AgentStatus, RunNowOptions } from '../service/index.js';
import type { ListRunsOptions, RunRecord } from '../storage/index.js';
import { ApiClient } from './api-client.js';
import { openInspectionService, type StoreSelection } from './inspection-service.js';
import { createRedactor, type Redactor } from './redact.js';

/** What the CLI asks of a fleet: the service's own methods, which the API client shares. */
export interface FleetControl {
  listAgents(): Promise<AgentStatus[]>;
  getAgentStatus(agentId: string): Promise<AgentStatus>;
  pauseAgent(agentId: string, options?: { reason?: string }): Promise<AgentStatus>;
  resumeAgent(agentId: string): Promise<AgentStatus>;
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

/**
 * Opens what a command works on: the HTTP API of a running Nightshift (`--url`, or
 * `NIGHTSHIFT_URL` when no store is chosen), else a store read directly (`--memory`, `--file`,
 * else `DATABASE_URL` or the embedded SQLite file) through a service that runs nothing.
 */
export function openFleetTarget(
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
