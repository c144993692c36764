import { InvalidArgumentError } from 'commander';

/** The units a duration from now is written in, and their length in ms. */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;

/** `1d`, `2h`, `30m`, `90s`, `1h30m`: whole numbers of days, hours, minutes, seconds, in order. */
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** What reads as an instant (the server checks the rest, and that it is in the future). */
const INSTANT_START = /^\d{4}-\d{2}-\d{2}T/;

const EXPECTED =
  'must be an ISO 8601 instant (2026-12-03T18:00:00Z) or a duration from now (30m, 2h, 1d, 1h30m)';

/**
 * A command-line `--expires`: an ISO 8601 instant, passed on as written (the server says when it
 * is not one, or not in the future), or a duration from `now()` (`30m`, `2h`, `1d12h`), turned
 * into the instant it ends at.
 */
export function expiresArgument(now: () => Date = () => new Date()): (value: string) => string {
  return (value) => {
    const text = value.trim();
    if (INSTANT_START.test(text)) return text;
    const match = DURATION.exec(text);
    if (!match || text === '') throw new InvalidArgumentError(EXPECTED);
    const [, days, hours, minutes, seconds] = match;
    const ms =
      Number(days ?? 0) * UNIT_MS.d +
      Number(hours ?? 0) * UNIT_MS.h +
      Number(minutes ?? 0) * UNIT_MS.m +
      Number(seconds ?? 0) * UNIT_MS.s;
    if (!Number.isSafeInteger(ms) || ms <= 0)
      throw new InvalidArgumentError('must be a duration longer than 0 (30m, 2h, 1d)');
    const end = new Date(now().getTime() + ms);
    if (Number.isNaN(end.getTime())) throw new InvalidArgumentError('is too far from now');
    return end.toISOString();
  };
}
