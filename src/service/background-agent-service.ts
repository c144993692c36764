import { replayDiffOf, replayRun, type ReplayOptions } from './replay/replay-run.js';
import type { ReplayDiff } from './replay/replay-diff.js';
import type {
  AgentDefinition,
  AgentDefinitionInput,
  AgentDefinitionPatch,
} from '../config/agent-definition.js';
import { NightshiftError } from '../errors.js';
import { scheduleOf } from '../schedule/index.js';
import type { EventRouter, MemoryRouter } from '../storage/index.js';
import type {
  ApprovalRecord,
  ListApprovalsOptions,
  ListRunsOptions,
  NightshiftEvent,
  RunRecord,
  RunStep,
} from '../storage/contracts/index.js';
import type { ToolDefinition } from '../tools/index.js';
import {
  createAgent,
  deleteAgent,
  pauseAgent,
  resumeAgent,
  startAgent,
  stopAgent,
  updateAgent,
} from './agent-commands.js';
import type { AgentStatus } from './agent-status.js';
import {
  listAgents,
  pauseAgents,
  resumeAgents,
  runAgentsNow,
  type ListAgentsOptions,
  type TagActionResult,
  type TagSelection,
} from './agent-tags.js';
import { trackSafely } from './agent-tracker.js';
import { backfill, type BackfillOptions } from './backfill.js';
import type { BackfillPlan } from './backfill-plan.js';
import {
  grantBudget,
  listBudgetGrants,
  listBudgets,
  type BudgetGrantRecord,
  type BudgetView,
} from './budgets/budget-grants.js';
import { decideApproval, getApproval, listApprovals } from './approvals/approval-decisions.js';
import { denyBudget } from './budgets/budget-denial.js';
import { ChangeFollower } from './change-follower.js';
import type { PruneReport } from './retention/retention-counts.js';
import { RetentionSweeper, type RetentionStats } from './retention/retention-sweeper.js';
import { resumeDuePauses } from './timed-pauses.js';
import { DEFAULT_NOTIFIER_DRAIN_MS, Notifier } from './notifications/notifier.js';
import { streamEvents, type StreamEventsOptions } from './event-stream.js';
import { runNow } from './manual-runs.js';
import { RunDispatcher } from './run-dispatcher.js';
import { recoverRuns } from './run-recovery.js';
import { RunTurns } from './run-turns.js';
import type { PauseOptions } from './pause-note.js';
import { ServiceContext } from './service-context.js';
import type { BackgroundAgentServiceOptions, RunNowOptions } from './service-options.js';
import { afterRun, schedulerTarget } from './tick-delivery.js';
import type { WorkerInfo } from './tick-scheduler.js';

/**
 * Keeps a fleet of agents running on their schedules. Inspection and management work in any
 * process that shares the store; only `startManager()` makes this process run agents.
 */
export class BackgroundAgentService {
  readonly #context: ServiceContext;
  readonly #follower: ChangeFollower;
  readonly #retention: RetentionSweeper;
  readonly instanceId: string;

  constructor(
    memory: MemoryRouter,
    events: EventRouter,
    options: BackgroundAgentServiceOptions = {},
  ) {
    this.#context = new ServiceContext(memory, events, options);
    this.#follower = new ChangeFollower(this.#context);
    this.#retention = new RetentionSweeper(this.#context, options);
    this.instanceId = this.#context.instanceId;
  }

  /** Registers a local tool agents may list by name. */
  registerTool<INPUT>(name: string, definition: ToolDefinition<INPUT>): void {
    this.#context.tools.registry.register(name, definition as ToolDefinition<never>);
  }

  /** Names of the tools agents may list. */
  toolNames(): string[] {
    return this.#context.tools.registry.names();
  }

  /** Validates a definition as `create` would, without storing it. */
  validateDefinition(input: unknown): AgentDefinition {
    return this.#context.validate(input);
  }

  /** Starts running agents in this process: restores every agent as stored, recovers interrupted runs, resumes schedules. */
  async startManager(): Promise<void> {
    const context = this.#context;
    if (context.scheduler) return;
    const { store, log, publisher, transitions } = await context.connect();
    context.dispatcher = new RunDispatcher(
      {
        store,
        events: publisher,
        transitions,
        now: context.now,
        instanceId: context.instanceId,
        leaseTtlMs: context.leaseTtlMs,
        runtimeFor: (record) => context.runtimes.runtimeFor(record),
        turns: new RunTurns(),
        budgets: context.budgets,
        tracing: context.tracing,
      },
      {
        onRunEnded: (agentId, run, agent) => afterRun(context, agentId, run, agent),
        onError: (error, where) => context.logFailure(error, where),
      },
    );
    context.scheduler = context.schedulerFactory(
      schedulerTarget(context, store),
      context.now,
      context.schedulerContext(),
    );
    // From now on the full scheduler schedules and enqueues for this process.
    const producer = context.producer;
    context.producer = undefined;
    await producer?.close();
    // Following starts before the agents are listed: a change made before the subscription took
    // hold is in the list, one made after is heard, so none falls between the two.
    await this.#follower.follow(log);
    if (context.notifications) {
      // Alerts are sent in the background: a run never waits for a target.
      context.notifier = new Notifier({
        settings: context.notifications,
        log,
        leases: store.leases,
        publisher,
        redactor: context.redactor,
        now: context.now,
        instanceId: context.instanceId,
        logger: context.logger,
      });
      await context.notifier.start();
    }
    await recoverRuns(context);
    for (const record of await store.agents.list()) {
      await this.#follower.inAgentOrder(record.agent_id, () => trackSafely(context, record));
    }
    // Timed pauses that ended while no manager ran end now; the next one's timer is armed.
    await resumeDuePauses(context);
    this.#follower.startSync();
    // Retention: a bounded sweep every interval, alongside any other manager's.
    this.#retention.start();
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
    return createAgent(this.#context, input);
  }

  /** Puts an agent on its schedule (state `active`). */
  async startAgent(agentId: string): Promise<AgentStatus> {
    return startAgent(this.#context, agentId);
  }

  /**
   * Takes an agent off its schedule until resumed; a run in flight finishes. The note says why
   * (`reason`), who (`by`) and, for a timed pause, `until` when: an instant in the future (ISO
   * 8601 with its offset, or a `Date`) at which a manager resumes the agent by itself (announced
   * with reason `timed_resume`). Kept with the agent until it is resumed; `config_invalid`
   * names a bad field. Pausing a paused agent with a note replaces its note.
   */
  async pauseAgent(agentId: string, options: PauseOptions = {}): Promise<AgentStatus> {
    return pauseAgent(this.#context, agentId, options);
  }

  /**
   * Pauses every active agent with the tag, with one note for all (see `pauseAgent`); says per
   * agent what happened: `done`, `unchanged` (paused already: its own pause and note stay) or
   * `refused` (with why).
   */
  async pauseAgents(selection: TagSelection, options: PauseOptions = {}): Promise<TagActionResult> {
    return pauseAgents(this.#context, selection, options);
  }

  /** Resumes every paused agent with the tag; says per agent what happened. */
  async resumeAgents(selection: TagSelection): Promise<TagActionResult> {
    return resumeAgents(this.#context, selection);
  }

  /** Runs every agent with the tag now (see `runNow`; not waited for); says per agent what happened. */
  async runAgentsNow(
    selection: TagSelection,
    options: Pick<RunNowOptions, 'query'> = {},
  ): Promise<TagActionResult> {
    return runAgentsNow(this.#context, selection, options);
  }

  /** Puts a paused agent back on its schedule; ticks missed while paused are counted. */
  async resumeAgent(agentId: string): Promise<AgentStatus> {
    return resumeAgent(this.#context, agentId);
  }

  /** Takes an agent off its schedule; the run in flight finishes unless `cancel` is set (then it ends `cancelled`, in whichever process runs it). */
  async stopAgent(agentId: string, options: { cancel?: boolean } = {}): Promise<AgentStatus> {
    return stopAgent(this.#context, agentId, options.cancel === true);
  }

  /** Changes an agent's definition (validated like `create`); its state is kept. */
  async updateAgent(agentId: string, patch: AgentDefinitionPatch): Promise<AgentStatus> {
    return this.updateAgentFromUntyped(agentId, patch);
  }

  /** `updateAgent` for a patch whose shape is not known yet (an HTTP body): validated the same way. */
  async updateAgentFromUntyped(agentId: string, input: unknown): Promise<AgentStatus> {
    return updateAgent(this.#context, agentId, input);
  }

  /** Removes an agent, its runs and its conversation; runs in flight are cancelled. */
  async deleteAgent(agentId: string): Promise<void> {
    return deleteAgent(this.#context, agentId);
  }

  /** One agent's status. */
  async getAgentStatus(agentId: string): Promise<AgentStatus> {
    return this.#context.status(await this.#context.require(agentId));
  }

  /** Every agent's status, ordered by id; with `tag`, only the agents that list it (`config_invalid` for a bad tag). */
  async listAgents(options: ListAgentsOptions = {}): Promise<AgentStatus[]> {
    return listAgents(this.#context, options);
  }

  /** An agent's definition as stored (defaults filled in). */
  async getAgentDefinition(agentId: string): Promise<AgentDefinition> {
    return this.#context.redactor.redact((await this.#context.require(agentId)).definition);
  }

  /**
   * Runs an agent now, outside its schedule, with the same limits, retries and overlap policy.
   * Returns the run record at once, or when it has ended with `wait: true`.
   */
  async runNow(agentId: string, options: RunNowOptions = {}): Promise<RunRecord> {
    return runNow(this.#context, agentId, options);
  }

  /**
   * Runs the ticks of the agent's schedule in a past range `[from, to]` (ISO instants, `to` not
   * after now, at most 1,000 ticks) that have no run yet, within what is left of its day and
   * month budgets: each tick is priced at the mean of the agent's recent runs, and those that fit
   * start oldest first, one after another, in the background (trigger `backfill`, `scheduled_at`
   * the tick). Returns the plan at once; `dry_run: true` plans and starts nothing.
   * `config_invalid` names a bad field; `invalid_state` when the agent is paused or stopped, or
   * this process runs no agents (a dry run works anywhere).
   */
  async backfill(agentId: string, options: BackfillOptions): Promise<BackfillPlan> {
    return backfill(this.#context, agentId, options);
  }

  /**
   * The worker processes of a distributed scheduler, from its heartbeat registry: what each
   * one is running now. Empty with the in-process scheduler.
   */
  async listWorkers(): Promise<WorkerInfo[]> {
    return (await this.#context.schedulerHandle()?.listWorkers()) ?? [];
  }

  /** An agent's runs, newest first. */
  async listRuns(agentId: string, options: ListRunsOptions = {}): Promise<RunRecord[]> {
    await this.#context.require(agentId);
    const { store } = await this.#context.connect();
    return this.#context.redactor.redact(await store.runs.list(agentId, options));
  }

  /** One run record; `run_not_found` when there is none. */
  async getRun(runId: string): Promise<RunRecord> {
    const { store } = await this.#context.connect();
    const run = await store.runs.get(runId);
    if (!run)
      throw new NightshiftError('run_not_found', `no run with id "${runId}"`, {
        details: { run_id: runId },
      });
    return this.#context.redactor.redact(run);
  }

  /**
   * Every day and month budget as it stands now (each agent's, each tag's, the fleet's): its
   * limits, what was spent and is held in its window, what was granted, when it resets.
   */
  async listBudgets(): Promise<BudgetView[]> {
    return listBudgets(this.#context);
  }

  /**
   * Grants more of one window of a budget (`{ scope: { agent_id } | { tag } | { fleet: true },
   * window, usd?, tokens?, requests?, tool_calls?, by, note }`), until the window resets; the
   * grant is kept in the ledger. `config_invalid` names a bad field; `invalid_state` when the
   * scope has no budget for that window.
   */
  async grantBudget(input: unknown): Promise<{ grant: BudgetGrantRecord; budget: BudgetView }> {
    return grantBudget(this.#context, input);
  }

  /**
   * Refuses a run waiting for a budget (`awaiting_budget`) more: it ends `budget_exceeded`, its
   * error saying who denied it and why (`{ by, note }`, both required: a `BudgetDenialInput`). `invalid_state` when the
   * run is not waiting (woken, denied or ended meanwhile), `run_not_found` when there is none.
   */
  async denyBudget(runId: string, input: unknown): Promise<RunRecord> {
    return denyBudget(this.#context, runId, input);
  }

  /**
   * Tool calls waiting for a person, or decided: newest first, filtered by `state`, `agent_id`,
   * `run_id` (at most `limit`, 100 by default). Pending ones past their expiry are expired first.
   */
  async listApprovals(options: ListApprovalsOptions = {}): Promise<ApprovalRecord[]> {
    return listApprovals(this.#context, options);
  }

  /** One approval; `approval_not_found` when there is none. */
  async getApproval(approvalId: string): Promise<ApprovalRecord> {
    return getApproval(this.#context, approvalId);
  }

  /**
   * Decides a tool call waiting for a person (`{ decision: 'approve' | 'deny', by, note?,
   * arguments? }`, an `ApprovalDecisionInput`), from any process sharing the store. Approve runs
   * the tool (with `arguments` instead of the model's when given, recorded as edited); deny gives
   * the model `{ error: 'denied', note }` and the run goes on. Applied once: the second of two
   * decisions gets `invalid_state`.
   */
  async decideApproval(approvalId: string, input: unknown): Promise<ApprovalRecord> {
    return decideApproval(this.#context, approvalId, input);
  }

  /** The grants ledger, newest first. */
  async listBudgetGrants(options: { limit?: number } = {}): Promise<BudgetGrantRecord[]> {
    return listBudgetGrants(this.#context, options);
  }

  /**
   * Runs an ended run again, as a new run (`trigger: replay`, `replay_of`), on its query and
   * history with the agent's current definition: `model: 'recorded'` (the default) answers each
   * model call with the original's reply and marks a step whose request differs (`replay_diverged`
   * when the replay needs a reply the original never got); `model: 'live'` asks the model
   * afresh. `tools: 'recorded'` (the default) answers each tool call with the original's result
   * and runs no tool; `'live'` runs them. The replay runs in this process, beside the agent's
   * schedule, and does not count in its stats. Returns the new run at once, or at its end with
   * `wait: true`. `run_not_found`; `invalid_state` when the run has not ended or was skipped;
   * `config_invalid` names a bad option.
   */
  async replayRun(runId: string, options: ReplayOptions = {}): Promise<RunRecord> {
    return replayRun(this.#context, runId, options);
  }

  /** The step-by-step comparison of a replay (its run id) with the run it replays. */
  async replayDiff(runId: string): Promise<ReplayDiff> {
    return replayDiffOf(this.#context, runId);
  }

  /** A run's steps (model calls and tool calls) in the order they happened. */
  async getRunSteps(runId: string): Promise<RunStep[]> {
    await this.getRun(runId);
    const { store } = await this.#context.connect();
    return this.#context.redactor.redact(await store.runs.listSteps(runId));
  }

  /** The next `count` fire times of an agent's schedule (ISO strings), time zone and DST aware. */
  async nextRuns(agentId: string, count = 5): Promise<string[]> {
    const record = await this.#context.requireRunnable(agentId);
    return scheduleOf(record)
      .nextN(this.#context.scheduleCursor(record), count)
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
      this.#context.connect().then((connection) => connection.log),
      agentId,
      options,
    );
  }

  /** Stored events (oldest first), for pages and polling. */
  async readEvents(
    options: { agent_id?: string; after?: string; limit?: number } = {},
  ): Promise<NightshiftEvent[]> {
    const { log } = await this.#context.connect();
    return this.#context.redactor.redact(await log.read(options));
  }

  /**
   * Applies retention now, to the end: ended runs (and their steps) past `runs_days`, events past
   * `events_days`, messages beyond `messages_per_session`, each agent's settings over the
   * fleet's. With `dry_run`, counts what would go and removes nothing. Works in any process on
   * the store; safe while managers sweep too. Returns the counts, in all and per agent.
   */
  async pruneNow(options: { dry_run?: boolean } = {}): Promise<PruneReport> {
    return this.#retention.pruneNow(options);
  }

  /** What this process's retention sweeps have removed since it started, for `/metrics`. */
  retentionStats(): RetentionStats {
    return this.#retention.stats();
  }

  /** Stops taking runs; runs in flight get `timeout` ms to finish, then end `interrupted`. Closes the stores. */
  async shutdown(options: { timeout?: number } = {}): Promise<void> {
    const context = this.#context;
    if (context.shuttingDown) return;
    context.shuttingDown = true;
    this.#follower.stop();
    await this.#retention.stop();
    // Together: a distributed scheduler's close waits for the jobs of runs in flight, which end
    // within the dispatcher's grace.
    await Promise.all([
      context.scheduler?.close(),
      context.producer?.close(),
      context.dispatcher?.close(options.timeout ?? context.shutdownTimeoutMs),
    ]);
    context.producer = undefined;
    // After the runs: alerts about runs the shutdown interrupted get a moment to go out too.
    await context.notifier?.close(
      Math.min(DEFAULT_NOTIFIER_DRAIN_MS, options.timeout ?? context.shutdownTimeoutMs),
    );
    await context.runtimes.close();
    await context.tools.sqlTools?.close().catch(() => undefined);
    await context.modelRequestLimiter?.close?.().catch(() => undefined);
    // The runs have ended: their spans go out before the process does.
    await context.tracing.shutdown(
      Math.max(500, Math.min(5_000, options.timeout ?? context.shutdownTimeoutMs)),
    );
    await context.closeStores();
  }
}
