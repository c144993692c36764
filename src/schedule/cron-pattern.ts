import { Cron } from 'croner';

/** Number of fields a cron pattern has: 5 (minute precision) or 6 (with seconds first). */
export function cronFieldCount(pattern: string): number {
  return pattern.trim().split(/\s+/).length;
}

/**
 * Checks a cron pattern (5 or 6 fields) and an optional IANA time zone.
 * Returns a message naming what is wrong, or undefined when both are valid.
 */
export function cronPatternProblem(pattern: string, timezone?: string): string | undefined {
  const fields = cronFieldCount(pattern);
  if (fields !== 5 && fields !== 6) {
    return `must have 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${fields}`;
  }
  try {
    new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
  } catch (error) {
    return `is not a valid cron pattern: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}

/** True when `timezone` is an IANA zone name this runtime knows. */
export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
