import type { ErrorInfo, RunStatus } from './run-store.js';

/** What an agent's runs cost on one day (`YYYY-MM-DD` in the agent's `timezone`). */
export interface DaySpend {
  day: string;
  usd: number;
}

/** What an agent's runs cost in one month (`YYYY-MM` in the agent's `timezone`). */
export interface MonthSpend {
  month: string;
  usd: number;
}

/** Counters kept per agent, updated atomically as runs end. */
export interface AgentStats {
  /** Finished runs, skips excluded. */
  run_count: number;
  /** Runs that ended failed, timed_out, budget_exceeded or interrupted. */
  error_count: number;
  skip_count: number;
  missed_count: number;
  /** Runs in a row that ended in an error status (reset by a completed run). */
  consecutive_failures: number;
  last_run_at: string | null;
  last_run_status: RunStatus | null;
  last_error: ErrorInfo | null;
  total_tokens: number;
  total_duration_ms: number;
  /** The newest tick the schedule has dealt with (run, skipped or counted missed). */
  last_scheduled_at: string | null;
  /** What every priced run cost, in US dollars (to the millionth). */
  cost_total_usd: number;
  /** The spend of the newest day a priced run ended on; null before the first one. */
  cost_day: DaySpend | null;
  /** The spend of the newest month a priced run ended in; null before the first one. */
  cost_month: MonthSpend | null;
}

/** The counters that records written before costs were counted lack. */
type CostField = 'cost_total_usd' | 'cost_day' | 'cost_month';

/** Counters as a store may hold them: those written before costs were counted lack the cost fields. */
export type StoredAgentStats = Omit<AgentStats, CostField> & Partial<Pick<AgentStats, CostField>>;

/** Stored counters with the fields an older record lacks at their defaults (no spend yet). */
export function withStatsDefaults(stats: StoredAgentStats): AgentStats {
  return {
    ...stats,
    cost_total_usd: stats.cost_total_usd ?? 0,
    cost_day: stats.cost_day ?? null,
    cost_month: stats.cost_month ?? null,
  };
}

/** Where a cost counts: the day (`YYYY-MM-DD`) and month (`YYYY-MM`) of an instant in a zone. */
export interface SpendPeriod {
  day: string;
  month: string;
}

const calendars = new Map<string, Intl.DateTimeFormat>();

/** A formatter of calendar dates in `timeZone`, made once per zone. */
function calendarIn(timeZone: string): Intl.DateTimeFormat {
  let calendar = calendars.get(timeZone);
  if (!calendar) {
    calendar = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    calendars.set(timeZone, calendar);
  }
  return calendar;
}

/**
 * The day and month `at` falls in, in the IANA zone `timeZone` (UTC when none is given, or when
 * the zone is unknown: a stored record is never refused here, its definition was checked before).
 */
export function spendPeriodOf(at: Date, timeZone = 'UTC'): SpendPeriod {
  let calendar: Intl.DateTimeFormat;
  try {
    calendar = calendarIn(timeZone);
  } catch {
    calendar = calendarIn('UTC');
  }
  const parts = Object.fromEntries(
    calendar.formatToParts(at).map((part) => [part.type, part.value]),
  ) as Partial<Record<Intl.DateTimeFormatPartTypes, string>>;
  const year = (parts.year ?? '').padStart(4, '0');
  const month = `${year}-${parts.month ?? ''}`;
  return { day: `${month}-${parts.day ?? ''}`, month };
}
