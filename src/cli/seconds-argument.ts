import { InvalidArgumentError } from 'commander';

/**
 * The shortest lease the CLI accepts, in seconds: a lease is renewed every third of it, and
 * renewals under a few hundred milliseconds would lapse between two turns of a busy process.
 */
export const MINIMUM_LEASE_SECONDS = 1;

/** A command-line number of seconds: 0 or more, greater than 0, or at least `minimum`. */
export function secondsArgument(
  rule: 'zero_or_more' | 'above_zero' | { minimum: number },
): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    const valid =
      value.trim() !== '' &&
      Number.isFinite(parsed) &&
      (rule === 'zero_or_more'
        ? parsed >= 0
        : rule === 'above_zero'
          ? parsed > 0
          : parsed >= rule.minimum);
    if (!valid) {
      throw new InvalidArgumentError(
        rule === 'zero_or_more'
          ? 'must be a number of seconds, 0 or more'
          : rule === 'above_zero'
            ? 'must be a number of seconds greater than 0'
            : `must be a number of seconds, at least ${rule.minimum}`,
      );
    }
    return parsed;
  };
}
