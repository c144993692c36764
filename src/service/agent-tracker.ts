import { errorMessage } from '../errors.js';
import type { AgentRecord } from '../storage/contracts/index.js';
import type { ServiceContext } from './service-context.js';

/**
 * Brings this manager's scheduler in line with a stored record; records the ticks missed
 * since the agent last ran (resolves once they are counted) and delivers its first tick (a
 * `run_immediately` start, a catch-up) through the scheduler.
 */
export async function trackAgent(context: ServiceContext, record: AgentRecord): Promise<void> {
  const scheduler = context.shuttingDown ? undefined : context.schedulerHandle();
  if (!scheduler) return;
  context.seenVersions.set(record.agent_id, record.version);
  const problem = context.checker.problemOf(record);
  if (record.state !== 'active' || problem) {
    await scheduler.unschedule(record.agent_id);
    if (problem) await reportInvalid(context, record, problem);
    return;
  }
  const immediate =
    record.definition.run_immediately &&
    !record.stats.last_scheduled_at &&
    record.anchor_at !== null &&
    !scheduler.isScheduled(record.agent_id);
  const plan = await scheduler.schedule(record);
  if (plan.missed > 0 && plan.lastMissed)
    await recordMissed(context, record.agent_id, plan.missed, plan.lastMissed);
  const first = immediate && record.anchor_at ? new Date(record.anchor_at) : plan.catchUp;
  if (first) await scheduler.enqueueTick(record.agent_id, first);
}

/** Tracks one record; its failure is reported and skipped, so one record never stops the others. */
export async function trackSafely(context: ServiceContext, record: AgentRecord): Promise<void> {
  try {
    await trackAgent(context, record);
  } catch (error) {
    await reportInvalid(context, record, `it could not be scheduled: ${errorMessage(error)}`);
  }
}

/** Counts ticks that passed without running, and says so (`background_task_missed`). */
export async function recordMissed(
  context: ServiceContext,
  agentId: string,
  missed: number,
  lastMissed: Date,
): Promise<void> {
  const { store, publisher } = await context.connect();
  await store.agents.updateStats(agentId, { missed, scheduled_at: lastMissed.toISOString() });
  await publisher.publish('background_task_missed', agentId, null, {
    missed,
    last_missed_at: lastMissed.toISOString(),
  });
}

/** The schedule is done (or max_runs reached): the agent stops, saying why. */
export async function finishAgent(
  context: ServiceContext,
  agentId: string,
  why: string,
): Promise<void> {
  const { store } = await context.connect();
  const record = await store.agents.get(agentId);
  if (!record || record.state !== 'active') return;
  const updated = await store.agents.update(agentId, { state: 'stopped', pause_reason: why });
  if (!updated) return;
  await trackAgent(context, updated);
  await context.publishStatus(updated, why);
}

/** Says, in the log and the event log, that a stored agent is skipped and why. */
async function reportInvalid(
  context: ServiceContext,
  record: AgentRecord,
  problem: string,
): Promise<void> {
  context.logger.warn(
    { agent_id: record.agent_id, problem },
    `nightshift: agent ${record.agent_id} is invalid and is skipped`,
  );
  const { publisher } = await context.connect();
  await publisher.publish('background_agent_status', record.agent_id, null, {
    state: 'invalid',
    is_running: false,
    pause_reason: record.pause_reason,
    next_run_at: null,
    reason: problem,
  });
}
