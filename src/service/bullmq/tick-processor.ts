import type * as Bullmq from 'bullmq';
import type { Job } from 'bullmq';
import { jitterOffsetMs, type Schedule } from '../../schedule/index.js';
import type { SchedulerTarget } from '../tick-scheduler.js';
import { DEFAULT_MISFIRE_GRACE_SECONDS, scheduleOfSnapshot } from './schedule-snapshot.js';
import type { TickCursor } from './tick-cursor.js';
import { iterationMillis, type NightshiftJobData, type TickJobData } from './tick-jobs.js';

/** A jitter shorter than this is waited out in the processor rather than by a round trip to Redis. */
const INLINE_JITTER_MS = 50;

/** What the worker's processor works with. */
export interface TickProcessorOptions {
  /** BullMQ, for the errors that tell a worker a job moved elsewhere. */
  bullmq: typeof Bullmq;
  target: SchedulerTarget;
  cursor: TickCursor;
  now: () => Date;
  /** True once the scheduler is closing: jobs go back to the queue untouched. */
  closing: () => boolean;
}

/** The processor of a BullMQ worker: takes a job with its lock token. */
export type TickProcessor = (
  job: Job<NightshiftJobData>,
  token: string | undefined,
) => Promise<void>;

/**
 * The worker's processor: a job completes when the run it started has ended. A tick or manual
 * run the service declines (it is shutting down) goes back to the head of the queue for another
 * worker; a tick later than its misfire grace is recorded missed rather than run.
 */
export function createTickProcessor(options: TickProcessorOptions): TickProcessor {
  const { bullmq, target, cursor, now: clock, closing } = options;

  /** Puts a job this process will not run back at the head of the queue for another worker. */
  async function handBack(job: Job<NightshiftJobData>, token: string | undefined): Promise<never> {
    await job.moveToWait(token);
    throw new bullmq.WaitingError();
  }

  function finishIfDone(agentId: string, schedule: Schedule | undefined, nominal: Date): void {
    if (schedule && !schedule.next(nominal)) target.onFinished(agentId);
  }

  async function processTick(
    job: Job<NightshiftJobData>,
    data: TickJobData,
    token: string | undefined,
  ): Promise<void> {
    const agentId = data.agent_id;
    const snapshot = data.schedule;
    const schedule = snapshot ? scheduleOfSnapshot(snapshot) : undefined;
    const nominal = nominalTime(job.id, data, schedule);
    if (!nominal) return;
    if (data.due_at === undefined && data.scheduled_at === undefined) {
      // An iteration taken for the first time: account for it, and for the slots BullMQ skipped.
      const previous = await cursor.advance(agentId, nominal.getTime());
      if (previous !== undefined && previous > nominal.getTime()) {
        // Dealt with already (missed in a plan, or overtaken): nothing to run.
        return finishIfDone(agentId, schedule, nominal);
      }
      if (previous !== undefined && previous < nominal.getTime() && schedule) {
        const before = new Date(nominal.getTime() - 1);
        const { total } = schedule.between(new Date(previous), before, 0);
        const lastMissed = total > 0 ? schedule.previous(before) : undefined;
        if (lastMissed) target.onMissed(agentId, total, lastMissed);
      }
    }
    // Lateness counts from when BullMQ was to fire it: a cron library that places a DST-gap tick
    // differently from the agent's schedule delays the run, it does not make it late.
    const slot = Math.max(nominal.getTime(), iterationMillis(job.id) ?? 0);
    const due = data.due_at ?? slot + jitterOffsetMs(agentId, nominal, snapshot?.jitter ?? 0);
    const now = clock().getTime();
    const graceMs = (snapshot?.misfire_grace ?? DEFAULT_MISFIRE_GRACE_SECONDS) * 1000;
    if (now - due > graceMs) {
      // As late as this, a tick is missed rather than run (as the local scheduler does).
      target.onMissed(agentId, 1, nominal);
    } else if (due - now > INLINE_JITTER_MS) {
      // Jitter: back to the delayed set until it is due, keeping the tick's nominal time.
      await job.updateData({ ...data, due_at: due });
      await job.moveToDelayed(due, token);
      throw new bullmq.DelayedError();
    } else {
      if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
      const outcome = await target.onTick(agentId, nominal);
      if (outcome === 'declined') return handBack(job, token);
    }
    finishIfDone(agentId, schedule, nominal);
  }

  return async (job, token) => {
    if (closing()) return handBack(job, token);
    const data = job.data;
    if (data.kind === 'tick') return processTick(job, data, token);
    const outcome =
      data.kind === 'resume'
        ? await target.onResume(data.request)
        : await target.onManual(data.request);
    if (outcome === 'declined') return handBack(job, token);
  };
}

/**
 * A tick's nominal time: a one-off tick carries it; an iteration's is the millis of its job id,
 * snapped down to the agent's schedule — the same instant whenever BullMQ aligned the slot, and
 * the intended tick when BullMQ moved a first slot to "now" because its start had just passed.
 */
function nominalTime(
  jobId: string | undefined,
  data: TickJobData,
  schedule: Schedule | undefined,
): Date | undefined {
  if (data.scheduled_at !== undefined) return new Date(data.scheduled_at);
  const millis = iterationMillis(jobId);
  if (millis === undefined) return undefined;
  return schedule ? schedule.previous(new Date(millis)) : new Date(millis);
}
