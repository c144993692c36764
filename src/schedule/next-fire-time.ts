import { cronPatternProblem, isValidTimezone } from './cron-pattern.js';
import { createCronFireTimes } from './cron-fire-times.js';
import type { FireTimeSource } from './fire-time-source.js';
import { createIntervalFireTimes } from './interval-fire-times.js';
import { parseIsoInstant } from './iso-instant.js';

/** What the schedule keys of an agent definition say (seconds for durations, ISO strings for dates). */
export interface ScheduleSpec {
  /** Seconds between fire times, counted from the anchor; may be fractional (kept to the millisecond). */
  interval?: number;
  /** A cron pattern: 5 fields (minute precision) or 6 (seconds first), read in `timezone`. */
  cron?: string;
  /** IANA time zone of `cron`, and of its dates written without an offset. Default: UTC. */
  timezone?: string;
  /** The one fire time of a one-shot schedule. */
  run_at?: string;
  /** No fire time before this instant (inclusive bound). */
  start_at?: string;
  /** No fire time after this instant (inclusive bound). */
  end_at?: string;
}

const SPEC_KEYS = ['interval', 'cron', 'timezone', 'run_at', 'start_at', 'end_at'] as const;

/** The schedule keys of anything that carries them (a definition, a snapshot), the unset ones left out. */
export function scheduleSpecOf(source: ScheduleSpec): ScheduleSpec {
  const spec: Record<string, unknown> = {};
  for (const key of SPEC_KEYS) if (source[key] !== undefined) spec[key] = source[key];
  // A definition's zone without a cron is where its budget days begin, not part of its schedule.
  if (source.cron === undefined) delete spec.timezone;
  return spec;
}

/** Options of {@link createSchedule}. */
export interface ScheduleOptions {
  /** Interval schedules fire at `anchor + k × interval`, k ≥ 1 (usually when the agent was started). */
  anchor: Date;
}

/** The fire times of one schedule; pure functions of their arguments (no clock, no timers). */
export interface Schedule {
  /** The first fire time strictly after `after`, or undefined when the schedule has ended. */
  next(after: Date): Date | undefined;
  /** The next n fire times strictly after `after` (fewer when the schedule ends first). */
  nextN(after: Date, n: number): Date[];
  /** The last fire time at or before `atOrBefore`, or undefined when there is none. */
  previous(atOrBefore: Date): Date | undefined;
  /**
   * Fire times in (from, to]: the first `limit` of them, and how many there are in all. Interval
   * and one-shot totals are exact; cron totals are exact for gaps up to 100,000 days
   * (`CRON_COUNT_LIMIT_DAYS`) and a lower bound beyond.
   */
  between(from: Date, to: Date, limit: number): { times: Date[]; total: number };
}

/**
 * Builds the schedule an agent definition describes: exactly one of `interval`, `cron` or
 * `run_at`, optionally bounded by `start_at` and `end_at`. Dates without an offset are read in
 * `timezone`, default UTC. Throws a RangeError naming the field when the spec is invalid.
 */
export function createSchedule(spec: ScheduleSpec, options: ScheduleOptions): Schedule {
  const anchorMs = options.anchor.getTime();
  if (Number.isNaN(anchorMs)) throw invalid('anchor', 'must be a valid Date');
  const source = createSource(spec, anchorMs);
  const timezone = spec.timezone ?? 'UTC';
  const startMs = readInstant(spec, 'start_at', timezone) ?? -Infinity;
  const endMs = readInstant(spec, 'end_at', timezone) ?? Infinity;
  if (endMs <= startMs) throw invalid('end_at', 'must be after start_at');
  return new BoundedSchedule(source, startMs, endMs);
}

/**
 * A fire-time source within [startMs, endMs]. A class rather than closures: a fleet keeps one
 * schedule per active agent, and methods on the prototype cost nothing per schedule.
 */
class BoundedSchedule implements Schedule {
  readonly #source: FireTimeSource;
  readonly #startMs: number;
  readonly #endMs: number;

  constructor(source: FireTimeSource, startMs: number, endMs: number) {
    this.#source = source;
    this.#startMs = startMs;
    this.#endMs = endMs;
  }

  // Times are whole milliseconds, so "strictly after startMs - 1" is "at or after startMs".
  #nextMs(afterMs: number): number | undefined {
    const time = this.#source.firstAfter(Math.max(afterMs, this.#startMs - 1));
    return time !== undefined && time <= this.#endMs ? time : undefined;
  }

  next(after: Date): Date | undefined {
    return toDate(this.#nextMs(after.getTime()));
  }

  nextN(after: Date, n: number): Date[] {
    const times: Date[] = [];
    for (let time = this.#nextMs(after.getTime()); time !== undefined && times.length < n;) {
      times.push(new Date(time));
      time = this.#nextMs(time);
    }
    return times;
  }

  previous(atOrBefore: Date): Date | undefined {
    const time = this.#source.lastAtOrBefore(Math.min(atOrBefore.getTime(), this.#endMs));
    return time !== undefined && time >= this.#startMs ? new Date(time) : undefined;
  }

  between(from: Date, to: Date, limit: number): { times: Date[]; total: number } {
    const afterMs = Math.max(from.getTime(), this.#startMs - 1);
    const untilMs = Math.min(to.getTime(), this.#endMs);
    if (untilMs <= afterMs) return { times: [], total: 0 };
    const times: Date[] = [];
    for (let time = this.#nextMs(afterMs); time !== undefined && time <= untilMs;) {
      if (times.length >= limit) break;
      times.push(new Date(time));
      time = this.#nextMs(time);
    }
    return { times, total: this.#source.count(afterMs, untilMs) };
  }
}

function createSource(spec: ScheduleSpec, anchorMs: number): FireTimeSource {
  const kinds = (['interval', 'cron', 'run_at'] as const).filter((key) => spec[key] !== undefined);
  if (kinds.length > 1) {
    throw invalid(
      kinds[1] ?? 'interval',
      `only one of interval, cron or run_at may be set (got ${kinds.join(', ')})`,
    );
  }
  if (spec.timezone !== undefined) {
    if (spec.cron === undefined) throw invalid('timezone', 'only applies with cron');
    if (!isValidTimezone(spec.timezone)) {
      throw invalid('timezone', 'must be an IANA time zone such as "Europe/Paris"');
    }
  }
  if (spec.interval !== undefined) {
    // Rounded to the millisecond: 1.1 × 1000 is 1100.0000000000002 in floating point.
    const intervalMs = Math.round(spec.interval * 1000);
    if (!Number.isFinite(spec.interval) || intervalMs < 1) {
      throw invalid('interval', 'must be a number of seconds, at least 0.001');
    }
    return createIntervalFireTimes(anchorMs, intervalMs);
  }
  if (spec.cron !== undefined) {
    const problem = cronPatternProblem(spec.cron, spec.timezone);
    if (problem) throw invalid('cron', problem);
    return createCronFireTimes(spec.cron, spec.timezone);
  }
  const runAtMs = readInstant(spec, 'run_at', 'UTC');
  if (runAtMs === undefined)
    throw invalid('interval', 'one of interval, cron or run_at is required');
  return createOneShotFireTime(runAtMs);
}

/** The single fire time of a `run_at` schedule. */
function createOneShotFireTime(runAtMs: number): FireTimeSource {
  return {
    firstAfter: (afterMs) => (runAtMs > afterMs ? runAtMs : undefined),
    lastAtOrBefore: (atMs) => (runAtMs <= atMs ? runAtMs : undefined),
    count: (afterMs, untilMs) => (runAtMs > afterMs && runAtMs <= untilMs ? 1 : 0),
  };
}

function readInstant(
  spec: ScheduleSpec,
  field: 'run_at' | 'start_at' | 'end_at',
  timezone: string,
): number | undefined {
  const value = spec[field];
  if (value === undefined) return undefined;
  const instant = parseIsoInstant(value, timezone);
  if (!instant) {
    throw invalid(field, 'must be an ISO 8601 date-time such as "2025-03-30T09:00:00Z"');
  }
  return instant.getTime();
}

function toDate(time: number | undefined): Date | undefined {
  return time === undefined ? undefined : new Date(time);
}

function invalid(field: string, message: string): RangeError {
  return new RangeError(`${field}: ${message}`);
}
