/**
 * The fire times of one kind of schedule (interval, cron, run_at), before start_at and end_at
 * bound them. Times are epoch milliseconds; createSchedule turns them into Dates.
 */
export interface FireTimeSource {
  /** The first fire time strictly after `afterMs`. */
  firstAfter(afterMs: number): number | undefined;
  /** The last fire time at or before `atMs`. */
  lastAtOrBefore(atMs: number): number | undefined;
  /** How many fire times lie in (afterMs, untilMs]. */
  count(afterMs: number, untilMs: number): number;
}
