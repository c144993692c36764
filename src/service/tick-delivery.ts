import {
  isTerminal,
  type AgentRecord,
  type RunRecord,
  type Store,
} from '../storage/contracts/index.js';
import { finishAgent, recordMissed, trackAgent } from './agent-tracker.js';
import { deliverManual } from './manual-runs.js';
import { scheduledRunId } from './run-ids.js';
import { newRunRecord } from './run-records.js';
import type { ServiceContext } from './service-context.js';
import { deliverResume } from './waiting-runs.js';
import type { DeliveryOutcome, SchedulerTarget } from './tick-scheduler.js';

/** What this manager's scheduler calls: each delivery is logged, never thrown, when it fails. */
export function schedulerTarget(context: ServiceContext, store: Store): SchedulerTarget {
  return {
    onTick: (agentId, scheduledAt) =>
      delivered(context, deliverTick(context, agentId, scheduledAt), `tick of ${agentId}`),
    onManual: (request) =>
      delivered(context, deliverManual(context, request), `manual run ${request.run_id}`),
    onResume: (request) =>
      delivered(context, deliverResume(context, request), `resuming ${request.run_id}`),
    onMissed: (agentId, missed, lastMissed) =>
      context.background(
        recordMissed(context, agentId, missed, lastMissed),
        `missed ticks of ${agentId}`,
      ),
    onFinished: (agentId) =>
      context.background(
        finishAgent(context, agentId, 'the schedule has no more fire times'),
        `finishing ${agentId}`,
      ),
    runningRuns: () => context.dispatcher?.handles().map((handle) => handle.run.run_id) ?? [],
    listAgents: async () =>
      (await store.agents.list()).filter((record) => !context.checker.problemOf(record)),
  };
}

/**
 * Dispatches a tick, resolving once its run (if it started here) has ended. `declined` when
 * shutting down took the tick from under it: nothing was recorded.
 */
async function deliverTick(
  context: ServiceContext,
  agentId: string,
  scheduledAt: Date,
): Promise<DeliveryOutcome> {
  if (context.shuttingDown) return 'declined';
  const { store } = await context.connect();
  // Read the agent fresh: a pause or stop made by any process is obeyed before the tick.
  const agent = await store.agents.get(agentId);
  if (!agent || agent.state !== 'active' || context.checker.problemOf(agent)) {
    await context.scheduler?.unschedule(agentId);
    return 'handled';
  }
  const maxRuns = agent.definition.max_runs;
  if (
    maxRuns !== undefined &&
    agent.stats.run_count + (context.dispatcher?.runningCount(agentId) ?? 0) >= maxRuns
  ) {
    await finishAgent(context, agentId, `max_runs (${maxRuns}) reached`);
    return 'handled';
  }
  const run = newRunRecord({
    runId: scheduledRunId(agentId, scheduledAt),
    agentId,
    trigger: 'schedule',
    scheduledAt,
    query: agent.definition.task_config.query,
    now: context.now(),
    ...context.lease(),
  });
  const dispatched = await context.dispatcher?.dispatch(agent, run);
  if (!dispatched && context.shuttingDown) return 'declined';
  if (dispatched && !isTerminal(dispatched.status))
    await context.dispatcher?.completion(run.run_id);
  return 'handled';
}

/**
 * Acts on the end of a run of this process: auto-pause, max_runs. `latest`: the agent's record
 * as the run's stats left it.
 */
export async function afterRun(
  context: ServiceContext,
  agentId: string,
  run: RunRecord,
  latest: AgentRecord | undefined,
): Promise<void> {
  const { store } = await context.connect();
  const agent = latest ?? (await store.agents.get(agentId));
  if (!agent || agent.state !== 'active') return;
  const threshold = agent.definition.auto_pause_after_failures;
  if (threshold !== undefined && agent.stats.consecutive_failures >= threshold) {
    const reason = `auto-paused after ${agent.stats.consecutive_failures} consecutive failed runs (last: ${run.status}${run.error ? `, ${run.error.code}` : ''})`;
    const paused = await store.agents.update(agentId, { state: 'paused', pause_reason: reason });
    if (paused) {
      await trackAgent(context, paused);
      await context.publishStatus(paused, 'auto_paused');
    }
    return;
  }
  const maxRuns = agent.definition.max_runs;
  if (maxRuns !== undefined && agent.stats.run_count >= maxRuns)
    await finishAgent(context, agentId, `max_runs (${maxRuns}) reached`);
}

/** Waits for a delivery, logging (not throwing) its failure: for schedulers that hold a job until the run ends. */
async function delivered(
  context: ServiceContext,
  work: Promise<DeliveryOutcome>,
  what: string,
): Promise<DeliveryOutcome> {
  try {
    return await work;
  } catch (error) {
    context.logFailure(error, what);
    return 'handled';
  }
}
