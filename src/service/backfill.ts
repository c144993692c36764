import { z } from 'zod';
import { describeFields, issuesToFieldErrors } from '../config/format-issues.js';
import { NightshiftError, type FieldError } from '../errors.js';
import {
  createSchedule,
  parseIsoInstant,
  scheduleSpecOf,
  type Schedule,
} from '../schedule/index.js';
import { backoffDelayMs } from '../shared/backoff.js';
import {
  isTerminal,
  TERMINAL_STATUSES,
  type AgentRecord,
  type RunRecord,
  type RunStatus,
  type Store,
} from '../storage/contracts/index.js';
import { abortableSleep } from './abortable-sleep.js';
import {
  appliesTo,
  BACKFILL_TICK_STATUSES,
  budgetOf,
  capsToolCalls,
  estimateOf,
  planNotes,
  pricingRuns,
  ticksThatFit,
  type BackfillEstimate,
  type BackfillPlan,
  type BackfillTick,
  type BackfillTickStatus,
} from './backfill-plan.js';
import { listBudgets } from './budgets/budget-grants.js';
import { scheduledRunId } from './run-ids.js';
import { newRunRecord } from './run-records.js';
import type { ServiceContext } from './service-context.js';

/** The most ticks one backfill takes; a longer range is refused, naming `to`. */
export const BACKFILL_MAX_TICKS = 1_000;

/** What `backfill` is asked: a past range of the agent's schedule (both ends included). */
export interface BackfillOptions {
  /** An ISO 8601 instant, with `Z` or an offset: the range's start. */
  from: string;
  /** An ISO 8601 instant, after `from` and not after now: the range's end. */
  to: string;
  /** Plan only: return the ticks and the estimate, and start nothing. */
  dry_run?: boolean | undefined;
}

/** How many of an agent's newest ended runs are read to find those that price a tick. */
const HISTORY_READ = 100;

/** Run records looked up at once, to tell which ticks already ran. */
const LOOKUP_BATCH = 50;

/** The pauses while a backfill waits for a run of the agent in another process to end. */
const IDLE_POLL_FIRST_MS = 50;
const IDLE_POLL_MAX_MS = 1_000;

/** Statuses of a run that an overlap policy counts as in the way of the next one. */
const BUSY_STATUSES: readonly RunStatus[] = ['pending', 'running'];

/** Ended runs that may have made model calls (a skipped tick made none). */
const ENDED_STATUSES: readonly RunStatus[] = TERMINAL_STATUSES.filter(
  (status) => status !== 'skipped',
);

const INSTANT_EXAMPLE = '2026-03-01T00:00:00Z';

/** A date, a time and `Z` or an offset: an instant every machine reads the same. */
const ZONED_INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

const instantField = z.string({
  error: `required: an ISO 8601 instant such as ${INSTANT_EXAMPLE}`,
});

const inputSchema = z.strictObject({
  from: instantField,
  to: instantField,
  dry_run: z.boolean({ error: 'must be true or false' }).optional(),
});

/** The range a backfill was asked for, checked. */
interface BackfillRange {
  from: Date;
  to: Date;
  dryRun: boolean;
}

/** Agents with a backfill running in this process, by service. */
const inProgress = new WeakMap<ServiceContext, Set<string>>();

/**
 * Lists the ticks of an agent's schedule in a past range, prices them from its recent runs and
 * plans which fit what is left of its budgets now; unless `dry_run`, starts those in the
 * background, one after another, and returns the plan at once (see
 * `BackgroundAgentService.backfill`).
 */
export async function backfill(
  context: ServiceContext,
  agentId: string,
  input: unknown,
): Promise<BackfillPlan> {
  const range = parseRange(input, context.now());
  const record = await context.requireRunnable(agentId);
  if (range.dryRun) return plan(context, record, range);
  if (record.state === 'paused' || record.state === 'stopped') {
    throw new NightshiftError(
      'invalid_state',
      `agent "${agentId}" is ${record.state}: resume or start it to backfill (a dry run works in any state)`,
      { details: { agent_id: agentId, state: record.state } },
    );
  }
  requireRunner(context);
  const running = inProgress.get(context) ?? new Set<string>();
  inProgress.set(context, running);
  if (running.has(agentId)) {
    throw new NightshiftError(
      'invalid_state',
      `a backfill of agent "${agentId}" is already going on in this process: wait for it to end`,
      { details: { agent_id: agentId } },
    );
  }
  running.add(agentId);
  let planned: BackfillPlan;
  try {
    planned = await plan(context, record, range);
  } catch (error) {
    running.delete(agentId);
    throw error;
  }
  const queued = planned.ticks.filter((tick) => tick.status === 'queued');
  if (queued.length === 0) {
    running.delete(agentId);
    return planned;
  }
  const ticks = runTicks(context, agentId, queued)
    // Shutting down closes the stores under it: that is how it stops then, not a failure.
    .catch((error: unknown) => {
      if (!context.shuttingDown) throw error;
    })
    .finally(() => running.delete(agentId));
  context.background(ticks, `backfill of ${agentId}`);
  return planned;
}

/** Refuses a backfill that would run ticks in a process that runs no agents, or is shutting down. */
function requireRunner(context: ServiceContext): void {
  if (context.shuttingDown)
    throw new NightshiftError('shutting_down', 'the service is shutting down');
  if (context.dispatcher) return;
  throw new NightshiftError(
    'invalid_state',
    'a backfill runs its ticks in the process that runs the agents (the one that called startManager(), such as nightshift run), and this one runs none: ask that process, or plan here with dry_run',
    { details: { reason: 'runs_no_agents' } },
  );
}

/** The input checked: both instants readable, `from` before `to`, `to` not after `now`. */
function parseRange(input: unknown, now: Date): BackfillRange {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    throw invalidInput(issuesToFieldErrors(parsed.error.issues, [], inputSchema));
  }
  const fields: FieldError[] = [];
  const read = (field: 'from' | 'to'): Date | undefined => {
    const value = parsed.data[field].trim();
    const instant = ZONED_INSTANT.test(value) ? parseIsoInstant(value) : undefined;
    if (!instant) {
      fields.push({
        path: field,
        message: `must be an ISO 8601 instant with a time and Z or an offset, such as ${INSTANT_EXAMPLE} (got "${parsed.data[field]}")`,
      });
    }
    return instant;
  };
  const from = read('from');
  const to = read('to');
  if (from && to && from.getTime() >= to.getTime()) {
    fields.push({ path: 'from', message: `must be before to (${to.toISOString()})` });
  }
  if (to && to.getTime() > now.getTime()) {
    fields.push({
      path: 'to',
      message: `must not be in the future: a backfill runs past ticks (now is ${now.toISOString()})`,
    });
  }
  if (!from || !to || fields.length > 0) throw invalidInput(fields);
  return { from, to, dryRun: parsed.data.dry_run === true };
}

function invalidInput(fields: FieldError[]): NightshiftError {
  return new NightshiftError('config_invalid', `invalid backfill: ${describeFields(fields)}`, {
    fields,
  });
}

/** The plan: each tick, whether it ran, the estimate, the budgets and which ticks fit them. */
async function plan(
  context: ServiceContext,
  record: AgentRecord,
  range: BackfillRange,
): Promise<BackfillPlan> {
  const times = ticksIn(record, range);
  const { store } = await context.connect();
  const slots = times.map((time) => ({ time, runId: scheduledRunId(record.agent_id, time) }));
  const existing = await runsOf(
    store,
    slots.map((slot) => slot.runId),
  );
  const views = (await listBudgets(context)).filter((view) => appliesTo(view, record.definition));
  const estimate = await estimateFor(store, record.agent_id, capsToolCalls(views));
  const budgets = views.map((view) => budgetOf(view, estimate));
  const pending = existing.filter((run) => run === undefined).length;
  let fitting = ticksThatFit(budgets, pending);
  const ticks = slots.map(({ time, runId }, index): BackfillTick => {
    const run = existing[index];
    const scheduledAt = time.toISOString();
    if (run)
      return {
        scheduled_at: scheduledAt,
        run_id: runId,
        status: 'already_ran',
        run_status: run.status,
      };
    const fits = fitting > 0;
    if (fits) fitting -= 1;
    const status: BackfillTickStatus = !fits ? 'over_budget' : range.dryRun ? 'fits' : 'queued';
    return { scheduled_at: scheduledAt, run_id: runId, status, run_status: null };
  });
  const counts = Object.fromEntries(
    BACKFILL_TICK_STATUSES.map((status) => [
      status,
      ticks.filter((tick) => tick.status === status).length,
    ]),
  ) as Record<BackfillTickStatus, number>;
  return {
    agent_id: record.agent_id,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    dry_run: range.dryRun,
    ticks,
    counts,
    estimate,
    budgets,
    notes: planNotes(estimate, budgets),
  };
}

/**
 * The ticks of the agent's schedule in [from, to], oldest first. Interval ticks are the agent's
 * own (its anchor plus whole intervals), the grid carried back before the anchor, so a tick
 * that ran on schedule has the run id it ran under. More than {@link BACKFILL_MAX_TICKS} is
 * refused, naming `to`.
 */
function ticksIn(record: AgentRecord, range: BackfillRange): Date[] {
  const schedule = backfillSchedule(record, range.from);
  const { times, total } = schedule.between(
    new Date(range.from.getTime() - 1),
    range.to,
    BACKFILL_MAX_TICKS,
  );
  if (total > BACKFILL_MAX_TICKS) {
    throw invalidInput([
      {
        path: 'to',
        message: `the range holds ${total.toLocaleString('en-US')} ticks of agent "${record.agent_id}"'s schedule, more than the ${BACKFILL_MAX_TICKS.toLocaleString('en-US')} a backfill takes: bring to closer to from (${range.from.toISOString()})`,
      },
    ]);
  }
  return times;
}

/** The agent's schedule, its interval grid reaching back to `from`. */
function backfillSchedule(record: AgentRecord, from: Date): Schedule {
  const spec = scheduleSpecOf(record.definition);
  if (spec.interval === undefined && spec.cron === undefined && spec.run_at === undefined) {
    throw new NightshiftError(
      'config_invalid',
      `agent "${record.agent_id}" has no schedule (interval, cron or run_at): it has no ticks to backfill; run it with runNow`,
      { details: { agent_id: record.agent_id } },
    );
  }
  let anchorMs = Date.parse(record.anchor_at ?? record.created_at);
  if (spec.interval !== undefined) {
    // The same grid, k × interval from the anchor, with k below 1 too: moved back whole intervals.
    const intervalMs = Math.round(spec.interval * 1000);
    if (intervalMs > 0 && from.getTime() <= anchorMs) {
      anchorMs -= (Math.ceil((anchorMs - from.getTime()) / intervalMs) + 1) * intervalMs;
    }
  }
  try {
    return createSchedule(spec, { anchor: new Date(anchorMs) });
  } catch (error) {
    throw new NightshiftError(
      'config_invalid',
      `agent "${record.agent_id}" has no readable schedule: ${(error as Error).message}`,
      { cause: error, details: { agent_id: record.agent_id } },
    );
  }
}

/** Each run id's record, or undefined when there is none: looked up by id, a batch at a time. */
async function runsOf(store: Store, runIds: readonly string[]): Promise<(RunRecord | undefined)[]> {
  const records: (RunRecord | undefined)[] = [];
  for (let start = 0; start < runIds.length; start += LOOKUP_BATCH) {
    const batch = runIds.slice(start, start + LOOKUP_BATCH);
    records.push(...(await Promise.all(batch.map((runId) => store.runs.get(runId)))));
  }
  return records;
}

/** The agent's expected usage per run, from its recent runs; tool calls counted when `countTools`. */
async function estimateFor(
  store: Store,
  agentId: string,
  countTools: boolean,
): Promise<BackfillEstimate> {
  const runs = pricingRuns(
    await store.runs.list(agentId, { status: ENDED_STATUSES, limit: HISTORY_READ }),
  );
  const toolCalls = countTools
    ? await Promise.all(
        runs.map(
          async (run) =>
            (await store.runs.listSteps(run.run_id)).filter((step) => step.kind === 'tool_call')
              .length,
        ),
      )
    : undefined;
  return estimateOf(runs, toolCalls);
}

/**
 * Starts the ticks one after another, each once the agent's run before it has ended (here or
 * in another process), so the overlap policy lets each one run. Stops early when a run ends
 * `budget_exceeded` or waits for a budget, a window of the agent's is spent, the agent is paused,
 * stopped or deleted, or the service shuts down.
 */
async function runTicks(
  context: ServiceContext,
  agentId: string,
  ticks: readonly BackfillTick[],
): Promise<void> {
  const { store } = await context.connect();
  let started = 0;
  let stopped: string | undefined;
  for (const tick of ticks) {
    stopped = await untilIdle(context, store, agentId);
    if (stopped) break;
    const agent = await store.agents.get(agentId);
    stopped = whyNot(context, agent);
    if (stopped || !agent) break;
    // Its window spent: the run would be refused at its first call. Nothing is started.
    const spent = await context.budgets.spent(agent.definition, store.budgets);
    if (spent) {
      stopped = spent.reason;
      break;
    }
    const dispatcher = context.dispatcher;
    if (!dispatcher || context.shuttingDown) {
      stopped = 'the service is shutting down';
      break;
    }
    const run = newRunRecord({
      runId: tick.run_id,
      agentId,
      trigger: 'backfill',
      scheduledAt: new Date(tick.scheduled_at),
      query: agent.definition.task_config.query,
      now: context.now(),
      ...context.lease(),
    });
    const dispatched = await dispatcher.dispatch(agent, run);
    // Claimed meanwhile (its tick fired, another backfill): it runs, once, elsewhere.
    if (!dispatched) continue;
    started += 1;
    const ended = await endOf(context, store, dispatched);
    if (ended.status === 'budget_exceeded') {
      stopped = `run ${ended.run_id} ended budget_exceeded${ended.error ? ` (${ended.error.code})` : ''}`;
      break;
    }
    if (!isTerminal(ended.status)) {
      stopped = `run ${ended.run_id} is ${ended.status}`;
      break;
    }
  }
  context.logger.info(
    { agent_id: agentId, planned: ticks.length, started, ...(stopped ? { stopped } : {}) },
    stopped
      ? `nightshift: backfill of ${agentId} stopped after ${started} of ${ticks.length} runs: ${stopped}`
      : `nightshift: backfill of ${agentId} ended: ${started} of ${ticks.length} runs`,
  );
}

/** Why no more ticks start for the agent, or undefined when they may. */
function whyNot(context: ServiceContext, agent: AgentRecord | undefined): string | undefined {
  if (context.shuttingDown) return 'the service is shutting down';
  if (!agent) return 'the agent was deleted';
  if (agent.state === 'paused' || agent.state === 'stopped') return `the agent is ${agent.state}`;
  const problem = context.checker.problemOf(agent);
  return problem ? `the agent cannot run: ${problem}` : undefined;
}

/**
 * Waits until no run of the agent is queued or running, here or in another process; returns
 * why the backfill stops instead, when it should.
 */
async function untilIdle(
  context: ServiceContext,
  store: Store,
  agentId: string,
): Promise<string | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    await context.dispatcher?.settleAgentRuns(agentId);
    if (context.shuttingDown) return 'the service is shutting down';
    const busy = await store.runs.list(agentId, { status: BUSY_STATUSES, limit: 1 });
    if (busy.length === 0) return undefined;
    const agent = await store.agents.get(agentId);
    const stop = whyNot(context, agent);
    if (stop) return stop;
    await abortableSleep(
      backoffDelayMs(attempt, { firstMs: IDLE_POLL_FIRST_MS, maxMs: IDLE_POLL_MAX_MS }),
    );
  }
}

/** The run once it has ended (or stopped to wait), or as the store has it when shutting down. */
async function endOf(context: ServiceContext, store: Store, run: RunRecord): Promise<RunRecord> {
  if (isTerminal(run.status)) return run;
  const here = await context.dispatcher?.completion(run.run_id);
  if (here) return here;
  // Ended before it was asked for, or taken by another process: the store says.
  for (let attempt = 1; ; attempt += 1) {
    const stored = await store.runs.get(run.run_id);
    if (!stored || !BUSY_STATUSES.includes(stored.status) || context.shuttingDown)
      return stored ?? run;
    await abortableSleep(
      backoffDelayMs(attempt, { firstMs: IDLE_POLL_FIRST_MS, maxMs: IDLE_POLL_MAX_MS }),
    );
  }
}
