/**
 * Pure schedule math: fire times of interval, cron and one-shot schedules, jitter and misfire
 * plans. No clock, no timers, no I/O; the lowest part of Nightshift, importing no other part.
 */
export { cronFieldCount, cronPatternProblem, isValidTimezone } from './cron-pattern.js';
export { CRON_COUNT_LIMIT_DAYS } from './cron-fire-times.js';
export { parseIsoInstant } from './iso-instant.js';
export { jitterOffsetMs } from './jitter.js';
export { planMisfire } from './misfire.js';
export type { MisfireInput, MisfirePlan, MisfirePolicy } from './misfire.js';
export { createSchedule, scheduleSpecOf } from './next-fire-time.js';
export type { Schedule, ScheduleOptions, ScheduleSpec } from './next-fire-time.js';
export { scheduleOf } from './schedule-of.js';
export type { ScheduleSource } from './schedule-of.js';
