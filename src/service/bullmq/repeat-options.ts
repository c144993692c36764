import type { Queue } from 'bullmq';
import { parseIsoInstant } from '../../schedule/index.js';
import type { ScheduleSnapshot } from './schedule-snapshot.js';

/** What `Queue.upsertJobScheduler` takes as its repeat options. */
type RepeatOptions = Parameters<Queue['upsertJobScheduler']>[1];

/**
 * The BullMQ repeat options that make a job scheduler fire on the agent's own ticks, from
 * `next` on. `every` slots are aligned by `offset` (anchor mod interval; BullMQ ignores 0, and
 * `interval` itself lands on the same slots), which BullMQ keeps through catch-ups; `startDate`
 * pins a first tick further away than one interval (a `start_at`, a cursor ahead of now), where
 * it cannot have passed before BullMQ reads it.
 */
export function repeatOptions(snapshot: ScheduleSnapshot, next: Date): RepeatOptions {
  const endMs = snapshot.end_at
    ? parseIsoInstant(snapshot.end_at, snapshot.timezone ?? 'UTC')?.getTime()
    : undefined;
  const bounds = endMs === undefined ? {} : { endDate: endMs };
  if (snapshot.cron !== undefined) {
    // BullMQ fires at the first cron time after max(now, startDate): the tick `next`, by both.
    return {
      pattern: snapshot.cron,
      tz: snapshot.timezone ?? 'UTC',
      startDate: next.getTime() - 1,
      ...bounds,
    };
  }
  const every = Math.round((snapshot.interval ?? 0) * 1000);
  const anchorMs = Date.parse(snapshot.anchor_at);
  const remainder = ((anchorMs % every) + every) % every;
  const farAway = next.getTime() - Date.now() > every;
  return {
    every,
    offset: remainder === 0 ? every : remainder,
    ...(farAway ? { startDate: next.getTime() } : {}),
    ...bounds,
  };
}
