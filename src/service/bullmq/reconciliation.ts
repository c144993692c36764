import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AgentRecord } from '../../storage/contracts/index.js';
import type { SchedulerContext, SchedulerTarget } from '../tick-scheduler.js';
import type { JobSchedules } from './job-schedules.js';
import { runAtOf, snapshotKey, snapshotOf } from './schedule-snapshot.js';
import type { SchedulerKeys } from './scheduler-keys.js';
import type { TickCursor } from './tick-cursor.js';
import { tickJobId, type NightshiftJobData, type TickJobData } from './tick-jobs.js';

/** What a reconciliation works with. */
export interface ReconciliationOptions {
  queue: Queue<NightshiftJobData>;
  redis: Redis;
  keys: SchedulerKeys;
  cursor: TickCursor;
  schedules: JobSchedules;
  target: SchedulerTarget;
  context: SchedulerContext;
  /** How often workers reconcile; the lock of one period lasts a little less. */
  intervalMs: number;
}

/** One worker per period (a lock in Redis) reconciles; the others skip it. */
export async function reconcileIfLeader(options: ReconciliationOptions): Promise<void> {
  const held = await options.redis.set(
    options.keys.reconcileLock,
    options.context.instanceId,
    'PX',
    Math.max(100, Math.floor(options.intervalMs * 0.9)),
    'NX',
  );
  if (held === 'OK') await reconcile(options);
}

/**
 * Brings BullMQ in line with the store: re-creates the schedules of active agents that have
 * none (Redis lost its data, a process died between two writes) or an outdated one, and
 * removes the job schedulers of agents that are no longer active. Ticks lost meanwhile are
 * recorded missed, as after any gap.
 */
async function reconcile(options: ReconciliationOptions): Promise<void> {
  const { queue, cursor, target } = options;
  const records = new Map((await target.listAgents()).map((record) => [record.agent_id, record]));
  const active = new Map([...records].filter(([, record]) => record.state === 'active'));
  const present = new Map<string, TickJobData | undefined>();
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    const data = scheduler.template?.data;
    present.set(scheduler.key, data?.kind === 'tick' ? data : undefined);
    if (active.has(scheduler.key)) continue;
    // Made from a version newer than the one read here (the agent was started meanwhile): keep it.
    const stored = records.get(scheduler.key);
    if (data?.kind === 'tick' && stored && data.version > stored.version) continue;
    await queue.removeJobScheduler(scheduler.key);
  }
  for (const record of active.values()) {
    const snapshot = snapshotOf(record);
    if (snapshot.run_at === undefined) {
      const data = present.get(record.agent_id);
      if (data?.schedule && snapshotKey(data.schedule) === snapshotKey(snapshot)) continue;
    } else {
      const runAt = runAtOf(snapshot);
      if (runAt && (await queue.getJob(tickJobId(record.agent_id, runAt)))) continue;
      // A `run_at` tick already taken leaves no job: only a cursor short of it means it was lost.
      const held = await cursor.read(record.agent_id);
      if (held !== '' && runAt && Number(held) >= runAt.getTime()) continue;
    }
    await reschedule(options, record);
  }
}

async function reschedule(options: ReconciliationOptions, record: AgentRecord): Promise<void> {
  const { schedules, target, context } = options;
  context.logger.warn(
    { agent_id: record.agent_id },
    'nightshift: re-created the BullMQ schedule of an active agent (reconciliation)',
  );
  const plan = await schedules.schedule(record);
  if (plan.missed > 0 && plan.lastMissed)
    target.onMissed(record.agent_id, plan.missed, plan.lastMissed);
  if (plan.catchUp) await schedules.enqueueTick(record.agent_id, plan.catchUp);
}
