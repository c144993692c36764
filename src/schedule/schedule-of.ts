import {
  createSchedule,
  scheduleSpecOf,
  type Schedule,
  type ScheduleSpec,
} from './next-fire-time.js';

/** What a schedule is built from: an agent's schedule keys and the instant its intervals count from. */
export interface ScheduleSource {
  /** The schedule keys (an agent definition carries them among its other fields). */
  definition: ScheduleSpec;
  /** When the agent was last started; interval ticks count from it. */
  anchor_at: string | null;
  /** The anchor of an agent never started. */
  created_at: string;
}

/** The schedule of an agent record: interval ticks count from its anchor, else its creation. */
export function scheduleOf(source: ScheduleSource): Schedule {
  return createSchedule(scheduleSpecOf(source.definition), {
    anchor: new Date(source.anchor_at ?? source.created_at),
  });
}
