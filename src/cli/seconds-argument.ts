import { InvalidArgumentError } from 'commander';

/**
 * The shortest lease the CLI accepts, in seconds: a lease is renewed every third of it, and
 * renewals under a few hundred milliseconds would lapse between two turns of a busy process.
 */
export const MINIMUM_LEASE_SECONDS = 1;

/** A command-line number of seconds: 0 or more, or at least `minimum`. */
export function secondsArgument(
  rule: 'zero_or_more' | { minimum: number },
): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    const minimum = rule === 'zero_or_more' ? 0 : rule.minimum;
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < minimum) {
      throw new InvalidArgumentError(
        rule === 'zero_or_more'
          ? 'must be a number of seconds, 0 or more'
          : `must be a number of seconds, at least ${rule.minimum}`,
      );
    }
    return parsed;
  };
}
