/** How a delay grows from one attempt to the next. */
export interface BackoffOptions {
  /** The delay before the first retry (attempt 1), in milliseconds. */
  firstMs: number;
  /** No delay is longer than this, in milliseconds. */
  maxMs: number;
  /** Each attempt waits this many times the one before. Default 2; 1 keeps the delay fixed. */
  factor?: number;
  /**
   * `full`: a random delay between 0 and the computed one, so that many waiters that failed at
   * once do not retry at once. Default `none`.
   */
  jitter?: 'none' | 'full';
  /** The random source for `jitter: 'full'`, in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * The one backoff rule of Nightshift: the delay before retry `attempt` (1 = the first retry) is
 * `firstMs × factor^(attempt − 1)`, never more than `maxMs`. Attempts below 1 count as 1; a huge
 * attempt number never overflows to `Infinity` or `NaN`.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const factor = options.factor ?? 2;
  const steps = Math.max(0, Math.floor(attempt) - 1);
  const grown =
    factor <= 1 || options.firstMs <= 0
      ? options.firstMs
      : Math.min(options.maxMs, options.firstMs * factor ** Math.min(steps, 1024));
  const delay = Math.max(0, Math.min(grown, options.maxMs));
  if (options.jitter !== 'full') return delay;
  return Math.floor((options.random ?? Math.random)() * delay);
}
