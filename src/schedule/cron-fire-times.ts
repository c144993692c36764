import { Cron, CronPattern, type CronOptions } from 'croner';
import type { FireTimeSource } from './fire-time-source.js';
import { constantOffsetSegments, DAY_MS, isUtcEquivalent } from './time-zone-offset.js';

/**
 * Counting a cron schedule's fire times covers at most this many days of a gap (about 273
 * years); a `total` over a longer gap counts only its first 100,000 days, so it is a lower bound.
 */
export const CRON_COUNT_LIMIT_DAYS = 100_000;

const MODE = '5-or-6-parts' as const;

/**
 * Fire times of a 5-field (minute precision) or 6-field (seconds first) cron pattern in an IANA
 * time zone (UTC when none is given), with croner's DST rules: a pattern with one second, one
 * minute and one hour (`30 2 * * *`) is a fixed-time job, which runs at the moment the clock
 * jumps over its time and once when its time repeats; any other pattern skips times the clock
 * jumps over and runs on both occurrences of a repeated time.
 */
export function createCronFireTimes(pattern: string, timezone?: string): FireTimeSource {
  const zone = timezone === undefined || isUtcEquivalent(timezone) ? undefined : timezone;
  // A fixed UTC offset spares croner its Intl lookups, about ten times faster, and UTC has no DST.
  const placement: CronOptions = zone === undefined ? { utcOffset: 0 } : { timezone: zone };
  const cron = new Cron(pattern, { paused: true, mode: MODE, ...placement });
  const counter = createWallClockCounter(pattern);

  const firstAfter = (afterMs: number): number | undefined =>
    cron.nextRun(new Date(afterMs))?.getTime();

  return {
    firstAfter,
    // croner's previous runs are strictly before the reference; one millisecond on includes it.
    lastAtOrBefore: (atMs) => cron.previousRuns(1, new Date(atMs + 1))[0]?.getTime(),
    count: (afterMs, untilMs) => {
      if (untilMs <= afterMs) return 0;
      const startMs = afterMs + 1;
      const endMs = Math.min(untilMs, afterMs + CRON_COUNT_LIMIT_DAYS * DAY_MS) + 1;
      if (counter.isFixedTime) {
        // At most one run a day, so walking is cheap, and it keeps croner's own DST rules.
        let total = 0;
        for (let time = firstAfter(afterMs); time !== undefined && time < endMs;) {
          total += 1;
          time = firstAfter(time);
        }
        return total;
      }
      // Other patterns run at every instant whose wall clock reading matches, so the gap can be
      // counted stretch by stretch of constant UTC offset, without listing its fire times.
      const segments =
        zone === undefined
          ? [{ startMs, endMs, offsetMs: 0 }]
          : constantOffsetSegments(startMs, endMs, zone);
      let total = 0;
      for (const segment of segments) {
        total += counter.countWallClock(
          segment.startMs + segment.offsetMs,
          segment.endMs + segment.offsetMs,
        );
      }
      return total;
    },
  };
}

/** Counts a pattern's matches on a wall clock with no DST, a day at a time. */
function createWallClockCounter(pattern: string) {
  const parsed = new CronPattern(pattern, undefined, { mode: MODE });
  // Matches any day's date fields when asked at a time of day the pattern matches.
  const dayMatcher = new Cron(pattern, { paused: true, mode: MODE, utcOffset: 0 });
  let secondsOfDay: number[] | undefined;

  const matchingSecondsOfDay = (): number[] => {
    if (secondsOfDay) return secondsOfDay;
    secondsOfDay = [];
    for (let hour = 0; hour < 24; hour += 1) {
      if (!parsed.hour[hour]) continue;
      for (let minute = 0; minute < 60; minute += 1) {
        if (!parsed.minute[minute]) continue;
        for (let second = 0; second < 60; second += 1) {
          if (parsed.second[second]) secondsOfDay.push(hour * 3600 + minute * 60 + second);
        }
      }
    }
    return secondsOfDay;
  };

  return {
    isFixedTime: parsed.isFixedTime,
    /** Matches in [startMs, endMs), both wall clock readings counted as if they were UTC. */
    countWallClock(startMs: number, endMs: number): number {
      const seconds = matchingSecondsOfDay();
      const firstSecond = seconds[0];
      if (firstSecond === undefined || endMs <= startMs) return 0;
      let total = 0;
      const lastDay = Math.floor((endMs - 1) / DAY_MS);
      for (let day = Math.floor(startMs / DAY_MS); day <= lastDay; day += 1) {
        const dayStartMs = day * DAY_MS;
        if (!dayMatcher.match(new Date(dayStartMs + firstSecond * 1000))) continue;
        const fromSecond = Math.ceil(Math.max(startMs - dayStartMs, 0) / 1000);
        const toSecond = Math.ceil(Math.min(endMs - dayStartMs, DAY_MS) / 1000);
        total += lowerBound(seconds, toSecond) - lowerBound(seconds, fromSecond);
      }
      return total;
    },
  };
}

/** Index of the first element of a sorted array that is at least `value`. */
function lowerBound(sorted: number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? Infinity) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
