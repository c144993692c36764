/** Milliseconds in one day of UTC (or of any fixed-offset clock). */
export const DAY_MS = 86_400_000;

/** A stretch of time, [startMs, endMs), over which a time zone keeps one UTC offset. */
export interface ConstantOffsetSegment {
  startMs: number;
  endMs: number;
  /** Local wall clock minus UTC, in milliseconds (Paris in winter: +3,600,000). */
  offsetMs: number;
}

// Building an Intl.DateTimeFormat costs far more than using one, and schedules ask often.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      // h23, not hour12: false, which some ICU versions render midnight as "24" with.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** Milliseconds of a wall clock reading, counted as if it were UTC (years 100 and later). */
export function wallClockMs(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  millisecond = 0,
): number {
  return Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
}

/** The UTC offset of `timezone` at an instant, in milliseconds (positive east of Greenwich). */
function timezoneOffsetMs(instantMs: number, timezone: string): number {
  const fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timezone).formatToParts(new Date(instantMs))) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  const wallMs = wallClockMs(
    fields.year,
    fields.month,
    fields.day,
    fields.hour,
    fields.minute,
    fields.second,
  );
  // The formatter shows whole seconds, so compare with the instant's whole second.
  return wallMs - (instantMs - (((instantMs % 1000) + 1000) % 1000));
}

/**
 * The instant a wall clock reading in `timezone` names. A reading that occurs twice (the clock
 * went back) is its earlier occurrence; a reading that never occurs (the clock jumped forward)
 * is moved forward by the jump, like Temporal's "compatible" disambiguation.
 */
export function wallClockToInstantMs(wallMs: number, timezone: string): number {
  // No zone changes its offset twice within two days, so the offsets a day either side are the
  // only ones this reading can have.
  const offsetBefore = timezoneOffsetMs(wallMs - DAY_MS, timezone);
  const offsetAfter = timezoneOffsetMs(wallMs + DAY_MS, timezone);
  const valid = [offsetBefore, offsetAfter]
    .map((offsetMs) => wallMs - offsetMs)
    .filter((instantMs) => timezoneOffsetMs(instantMs, timezone) === wallMs - instantMs);
  if (valid.length > 0) return Math.min(...valid);
  return wallMs - offsetBefore;
}

/**
 * Splits [startMs, endMs) into the stretches over which `timezone` keeps one offset.
 * The zone is sampled once a day, then each change is found to the second; tzdb has no zone
 * that changes its offset and changes it back within one day.
 */
export function constantOffsetSegments(
  startMs: number,
  endMs: number,
  timezone: string,
): ConstantOffsetSegment[] {
  const segments: ConstantOffsetSegment[] = [];
  let segmentStart = startMs;
  let offsetMs = timezoneOffsetMs(startMs, timezone);
  let cursor = startMs;
  for (;;) {
    const probe = Math.min(cursor + DAY_MS, endMs - 1);
    if (probe <= cursor) break;
    if (timezoneOffsetMs(probe, timezone) === offsetMs) {
      cursor = probe;
      continue;
    }
    const changeMs = firstOffsetChange(cursor, probe, offsetMs, timezone);
    segments.push({ startMs: segmentStart, endMs: changeMs, offsetMs });
    segmentStart = changeMs;
    offsetMs = timezoneOffsetMs(changeMs, timezone);
    cursor = changeMs;
  }
  segments.push({ startMs: segmentStart, endMs, offsetMs });
  return segments;
}

/** The first whole second in (lowMs, highMs] whose offset is not `lowOffsetMs`, by bisection. */
function firstOffsetChange(
  lowMs: number,
  highMs: number,
  lowOffsetMs: number,
  timezone: string,
): number {
  let lowSecond = Math.floor(lowMs / 1000);
  let highSecond = Math.floor(highMs / 1000);
  while (highSecond - lowSecond > 1) {
    const middle = Math.floor((lowSecond + highSecond) / 2);
    if (timezoneOffsetMs(middle * 1000, timezone) === lowOffsetMs) lowSecond = middle;
    else highSecond = middle;
  }
  return highSecond * 1000;
}

/** True when `timezone` keeps UTC's clock all year (UTC, Etc/UTC, GMT, Zulu, …). */
export function isUtcEquivalent(timezone: string): boolean {
  return (
    new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone === 'UTC'
  );
}
