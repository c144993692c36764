import {
  errorMessage,
  isNightshiftErrorCode,
  NightshiftError,
  type FieldError,
} from '../errors.js';
import type { RunReport } from '../server/index.js';
import type {
  AgentStatus,
  BackfillOptions,
  BackfillPlan,
  BudgetGrantInput,
  BudgetGrantRecord,
  BudgetView,
  ListAgentsOptions,
  PauseOptions,
  PruneReport,
  ReplayDiff,
  RunNowOptions,
  TagActionResult,
  TagSelection,
  WorkerInfo,
} from '../service/index.js';
import type {
  ApprovalRecord,
  ListApprovalsOptions,
  ListRunsOptions,
  RunRecord,
  RunStep,
} from '../storage/index.js';

/** Where the API is and how to authenticate. */
export interface ApiClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** The bearer token, when the server has one. */
  token?: string;
  /** Milliseconds a JSON call may take before it fails. Default 30,000. */
  timeoutMs?: number;
}

/** A run record with its steps, as `GET /api/runs/{run_id}` answers. */
export type RunWithSteps = RunRecord & { steps: RunStep[] };

/** `GET /api/budgets`: every budget as it stands, and the newest grants first. */
export interface BudgetsAnswer {
  budgets: BudgetView[];
  grants: BudgetGrantRecord[];
}

/** What a grant answers: the grant as the ledger keeps it, and the budget with it counted. */
export interface BudgetGrantAnswer {
  grant: BudgetGrantRecord;
  budget: BudgetView;
}

/** Where an event stream starts: after `since` (`0` for the start), or after the last event seen. */
export interface EventStreamCursor {
  /** `?since=`: `0` replays the stored history first. */
  since?: string;
  /** `Last-Event-ID`, as a reconnecting client sends it; wins over `since`. */
  lastEventId?: string;
  signal?: AbortSignal;
}

/**
 * The Nightshift HTTP API over `fetch`, with the service's method names, so the CLI's commands
 * work the same against a server as against a store. A refusal of the server becomes a
 * `NightshiftError` with its code, message and fields; `details.status` is the HTTP status
 * (absent when the server could not be reached).
 */
export class ApiClient {
  /** The base URL, without a trailing slash. */
  readonly url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.url = checkedBaseUrl(options.url);
    this.#token = options.token === '' ? undefined : options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Every agent's status, ordered by id; with `tag`, only the agents that list it. */
  async listAgents(options: ListAgentsOptions = {}): Promise<AgentStatus[]> {
    const search = options.tag === undefined ? '' : `?tag=${encodeURIComponent(options.tag)}`;
    return (await this.#json<{ agents: AgentStatus[] }>('GET', `/api/agents${search}`)).agents;
  }

  /** One agent's status. */
  getAgentStatus(agentId: string): Promise<AgentStatus> {
    return this.#json('GET', agentPath(agentId));
  }

  /** Takes an agent off its schedule until resumed, or until `until`; the note says why and who. */
  pauseAgent(agentId: string, options: PauseOptions = {}): Promise<AgentStatus> {
    return this.#json('POST', `${agentPath(agentId)}/pause`, pauseBody(options));
  }

  /** Pauses every agent with the tag, with one note for all; says per agent what happened. */
  pauseAgents(selection: TagSelection, options: PauseOptions = {}): Promise<TagActionResult> {
    return this.#json('POST', `${tagPath(selection.tag)}/pause`, pauseBody(options));
  }

  /** Resumes every paused agent with the tag; says per agent what happened. */
  resumeAgents(selection: TagSelection): Promise<TagActionResult> {
    return this.#json('POST', `${tagPath(selection.tag)}/resume`, {});
  }

  /** Runs every agent with the tag now (not waited for); says per agent what happened. */
  runAgentsNow(
    selection: TagSelection,
    options: Pick<RunNowOptions, 'query'> = {},
  ): Promise<TagActionResult> {
    return this.#json('POST', `${tagPath(selection.tag)}/run`, options);
  }

  /** Puts a paused agent back on its schedule. */
  resumeAgent(agentId: string): Promise<AgentStatus> {
    return this.#json('POST', `${agentPath(agentId)}/resume`, {});
  }

  /** Takes an agent off its schedule; `cancel` also cancels the run in flight. */
  stopAgent(agentId: string, options: { cancel?: boolean } = {}): Promise<AgentStatus> {
    return this.#json('POST', `${agentPath(agentId)}/stop`, options);
  }

  /** Plans (`dry_run`) or starts the ticks of a past range of an agent's schedule, within its budgets. */
  backfill(agentId: string, options: BackfillOptions): Promise<BackfillPlan> {
    return this.#json('POST', `${agentPath(agentId)}/backfill`, options);
  }

  /** Runs an agent now; answers at once, or when the run has ended with `wait`. */
  runNow(agentId: string, options: RunNowOptions = {}): Promise<RunRecord> {
    return this.#json('POST', `${agentPath(agentId)}/run`, options);
  }

  /** An agent's runs, newest first. */
  async listRuns(agentId: string, options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.status !== undefined) query.set('status', [options.status].flat().join(','));
    const search = query.size > 0 ? `?${query.toString()}` : '';
    const body = await this.#json<{ runs: RunRecord[] }>(
      'GET',
      `${agentPath(agentId)}/runs${search}`,
    );
    return body.runs;
  }

  /** One run record with its steps. */
  getRun(runId: string): Promise<RunWithSteps> {
    return this.#json('GET', `/api/runs/${encodeURIComponent(runId)}`);
  }

  /** Runs an ended run again from its journal, as a new run (`trigger: replay`); answers at once. */
  replayRun(
    runId: string,
    options: { model?: 'recorded' | 'live'; tools?: 'recorded' | 'live' } = {},
  ): Promise<RunRecord> {
    return this.#json('POST', `/api/runs/${encodeURIComponent(runId)}/replay`, options);
  }

  /** A replay (its run id) compared with the run it replays, call by call. */
  replayDiff(runId: string): Promise<ReplayDiff> {
    return this.#json('GET', `/api/runs/${encodeURIComponent(runId)}/replay-diff`);
  }

  /** Everything the run page shows of a run: record, steps, timeline, its events and neighbours. */
  getRunReport(runId: string): Promise<RunReport> {
    return this.#json('GET', `/api/runs/${encodeURIComponent(runId)}/report`);
  }

  /** Approvals, newest first (the service expires those past due first). */
  async listApprovals(options: ListApprovalsOptions = {}): Promise<ApprovalRecord[]> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options)) query.set(key, String(value));
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return (await this.#json<{ approvals: ApprovalRecord[] }>('GET', `/api/approvals${suffix}`))
      .approvals;
  }

  /** Approves or denies a tool call waiting for a person. */
  decideApproval(
    approvalId: string,
    decision: 'approve' | 'deny',
    body: { by: string; note?: string; arguments?: Record<string, unknown> },
  ): Promise<ApprovalRecord> {
    return this.#json('POST', `/api/approvals/${encodeURIComponent(approvalId)}/${decision}`, body);
  }

  /** Refuses a run waiting for a budget more: it ends `budget_exceeded`, saying who and why. */
  denyBudget(runId: string, input: { by: string; note: string }): Promise<RunRecord> {
    return this.#json('POST', `/api/runs/${encodeURIComponent(runId)}/deny-budget`, input);
  }

  /** The worker processes of a distributed scheduler, by id; empty with the in-process scheduler. */
  async listWorkers(): Promise<WorkerInfo[]> {
    return (await this.#json<{ workers: WorkerInfo[] }>('GET', '/api/workers')).workers;
  }

  /** Every agent's, tag's and the fleet's day and month budget as it stands, and the newest grants. */
  getBudgets(): Promise<BudgetsAnswer> {
    return this.#json('GET', '/api/budgets');
  }

  /** Grants more of one window of a scope's budget, until that window resets. */
  grantBudget(input: BudgetGrantInput): Promise<BudgetGrantAnswer> {
    return this.#json('POST', '/api/budgets/grants', input);
  }

  /** Applies the server's retention now (or, with `dry_run`, counts what would go). */
  pruneNow(options: { dry_run?: boolean } = {}): Promise<PruneReport> {
    return this.#json('POST', '/api/retention/prune', { dry_run: options.dry_run === true });
  }

  /**
   * Opens the server-sent events of an agent (or of the fleet, with no agent) and returns the
   * response once the server has accepted it; its body is the stream.
   */
  async openEventStream(
    agentId: string | undefined,
    cursor: EventStreamCursor = {},
  ): Promise<Response> {
    const base = agentId === undefined ? '/api/events' : `${agentPath(agentId)}/events`;
    const path =
      cursor.since === undefined ? base : `${base}?since=${encodeURIComponent(cursor.since)}`;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (cursor.lastEventId !== undefined) headers['last-event-id'] = cursor.lastEventId;
    const response = await this.#fetch('GET', path, { headers, signal: cursor.signal });
    if (!response.ok) throw await this.#refusal(response, path);
    return response;
  }

  async #json<T>(method: string, path: string, body?: object): Promise<T> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const response = await this.#fetch(method, path, {
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      signal,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw await this.#refusal(response, path);
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw new NightshiftError(
        'internal',
        `the server at ${this.url} answered ${method} ${path} with something other than JSON`,
        { cause: error, details: { status: response.status } },
      );
    }
  }

  async #fetch(
    method: string,
    path: string,
    init: { headers: Record<string, string>; signal?: AbortSignal | undefined; body?: string },
  ): Promise<Response> {
    const headers = { ...init.headers };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    try {
      return await fetch(`${this.url}${path}`, { ...init, method, headers });
    } catch (error) {
      if (init.signal?.aborted && init.signal.reason instanceof DOMException) {
        if (init.signal.reason.name === 'TimeoutError') {
          throw new NightshiftError(
            'timeout',
            `the server at ${this.url} did not answer ${method} ${path} within ${this.#timeoutMs / 1000} s`,
            { cause: error },
          );
        }
      }
      if (init.signal?.aborted) throw error;
      throw new NightshiftError(
        'storage_unavailable',
        `cannot reach the Nightshift server at ${this.url} (${networkReason(error)})`,
        { cause: error },
      );
    }
  }

  /** The error a refused request stands for, from the server's `{ error }` body when it has one. */
  async #refusal(response: Response, path: string): Promise<NightshiftError> {
    const status = response.status;
    const body = (await response.json().catch(() => undefined)) as
      { error?: { code?: unknown; message?: unknown; fields?: FieldError[] } } | undefined;
    const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
    const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
    const details = { status, ...(code ? { api_code: code } : {}) };
    if (code === undefined || message === undefined) {
      return new NightshiftError(
        status >= 500 ? 'storage_unavailable' : 'config_invalid',
        `the server at ${this.url} answered HTTP ${status} to ${path}, not as a Nightshift API does (is --url right?)`,
        { details },
      );
    }
    if (code === 'unauthorized') {
      return new NightshiftError(
        'config_invalid',
        this.#token === undefined
          ? `the server at ${this.url} requires a token: pass --token or set NIGHTSHIFT_TOKEN`
          : `the server at ${this.url} did not accept the token (${message}); check --token or NIGHTSHIFT_TOKEN`,
        { details },
      );
    }
    // An API error with one of the service's codes keeps it.
    if (isNightshiftErrorCode(code)) {
      return new NightshiftError(code, message, {
        fields: body?.error?.fields ?? [],
        details,
      });
    }
    // The server's own refusals (host_not_allowed, not_found, payload_too_large …) concern the request.
    return new NightshiftError(
      'config_invalid',
      `the server at ${this.url} refused ${path}: ${message}`,
      {
        details,
      },
    );
  }
}

function agentPath(agentId: string): string {
  return `/api/agents/${encodeURIComponent(agentId)}`;
}

function tagPath(tag: string): string {
  return `/api/tags/${encodeURIComponent(tag)}`;
}

/** A pause's note as the API takes it: `until` as an ISO instant. */
function pauseBody(options: PauseOptions): Record<string, string> {
  const body: Record<string, string> = {};
  if (options.reason !== undefined) body.reason = options.reason;
  if (options.by !== undefined) body.by = options.by;
  if (options.until !== undefined)
    body.until = options.until instanceof Date ? options.until.toISOString() : options.until;
  return body;
}

/** The URL without a trailing slash; anything but http(s) is a `config_invalid` error naming `--url`. */
function checkedBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl('must be a URL such as http://127.0.0.1:7420');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidUrl('must be an http:// or https:// URL');
  }
  if (parsed.search !== '' || parsed.hash !== '')
    throw invalidUrl('must not have a query or fragment');
  return parsed.toString().replace(/\/+$/, '');
}

function invalidUrl(message: string): NightshiftError {
  return new NightshiftError('config_invalid', `--url: ${message}`);
}

/** `ECONNREFUSED` rather than undici's bare "fetch failed". */
function networkReason(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return errorMessage(cause ?? error);
}
