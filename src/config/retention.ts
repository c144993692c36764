import { z } from 'zod';

/** The longest `runs_days` or `events_days` taken: a hundred years. */
const MAX_DAYS = 36_500;

const days = z
  .number({ error: 'must be a number of days' })
  .gt(0, { error: 'must be greater than 0' })
  .max(MAX_DAYS, { error: `must be at most ${MAX_DAYS} days` });

/**
 * How long an agent's history is kept (`retention:` in an agent definition, and the fleet-wide
 * defaults at the top of a Nightshift file). Each field unset keeps that kind forever.
 */
export const retentionSchema = z.strictObject({
  /** Ended runs (with their steps) are removed this many days after they ended. */
  runs_days: days.optional(),
  /** Events are removed this many days after their timestamp. */
  events_days: days.optional(),
  /** A conversation keeps only its newest this many messages. */
  messages_per_session: z
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .optional(),
});

/** Retention settings: days of runs and events, messages per session; an unset field keeps all. */
export type RetentionSettings = z.output<typeof retentionSchema>;

/** An agent's retention: its own settings over the fleet's defaults, field by field. */
export function effectiveRetention(
  agent: RetentionSettings | undefined,
  fleet: RetentionSettings | undefined,
): RetentionSettings {
  return { ...fleet, ...definedFields(agent ?? {}) };
}

function definedFields(settings: RetentionSettings): RetentionSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}
