import type { Schedule } from './next-fire-time.js';

/** What to do with ticks missed while nothing was running: count them all, or run the newest once. */
export type MisfirePolicy = 'skip' | 'run_once';

/** Input of {@link planMisfire}. */
export interface MisfireInput {
  schedule: Schedule;
  /** The newest tick already dealt with (run, skipped or counted missed); undefined for a new agent. */
  lastScheduledAt: Date | undefined;
  now: Date;
  policy: MisfirePolicy;
  /** Under `run_once`, the newest missed tick is caught up only if it is at most this old. */
  graceSeconds: number;
}

/** What planMisfire decided about the ticks in (lastScheduledAt, now]. */
export interface MisfirePlan {
  /** Ticks that will never run (a lower bound only for cron gaps over 100,000 days). */
  missed: number;
  /** The newest tick counted as missed. */
  lastMissed?: Date;
  /** The one missed tick to run now, under `run_once` within the grace. */
  catchUp?: Date;
  /** Normal scheduling continues with the first tick strictly after this instant. */
  resumeAfter: Date;
}

/**
 * Decides what happens to the ticks in (lastScheduledAt, now], missed while the process was
 * down, the machine asleep or the agent paused. `skip` counts them all as missed; `run_once`
 * catches up the newest one if it is within `graceSeconds` of now, and counts the others.
 */
export function planMisfire(input: MisfireInput): MisfirePlan {
  const { schedule, lastScheduledAt, now, policy, graceSeconds } = input;
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
    throw new RangeError(
      `misfire_grace: must be a number of seconds, at least 0 (got ${graceSeconds})`,
    );
  }
  // Ticks up to lastScheduledAt were dealt with, also when it is ahead of this machine's clock.
  const resumeAfter =
    lastScheduledAt && lastScheduledAt.getTime() > now.getTime() ? lastScheduledAt : now;
  if (!lastScheduledAt || lastScheduledAt.getTime() >= now.getTime()) {
    return { missed: 0, resumeAfter: new Date(resumeAfter.getTime()) };
  }
  const { total } = schedule.between(lastScheduledAt, now, 0);
  const newest = total > 0 ? schedule.previous(now) : undefined;
  if (!newest || newest.getTime() <= lastScheduledAt.getTime()) {
    return { missed: 0, resumeAfter: new Date(now.getTime()) };
  }
  const withinGrace = now.getTime() - newest.getTime() <= graceSeconds * 1000;
  if (policy === 'run_once' && withinGrace) {
    const missed = total - 1;
    const lastMissed = missed > 0 ? schedule.previous(new Date(newest.getTime() - 1)) : undefined;
    return {
      missed,
      ...(lastMissed ? { lastMissed } : {}),
      catchUp: newest,
      resumeAfter: new Date(now.getTime()),
    };
  }
  return { missed: total, lastMissed: newest, resumeAfter: new Date(now.getTime()) };
}
