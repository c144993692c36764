import { errorMessage, NightshiftError } from '../../errors.js';
import type { ErrorInfo } from '../../storage/contracts/index.js';

/** Abort reasons the service uses; they decide a run's terminal status. */
export const abortReasons = {
  cancelled: (why: string) => new NightshiftError('cancelled', why),
  shutdown: () =>
    new NightshiftError('shutting_down', 'the service shut down before the run finished'),
  leaseLost: () =>
    new NightshiftError(
      'invalid_state',
      'this process lost the run’s lease; another process has it',
    ),
  /** An infrastructure fault (the store was out past the lease), not anyone's decision: `interrupted`. */
  overlapLost: (holder: string | undefined) =>
    new NightshiftError(
      'storage_unavailable',
      `the agent’s overlap lease expired while the store could not be reached, and ${holder ? `${holder} holds it now` : 'another run holds it now'}`,
    ),
};

/**
 * How a run stopped by `reason` ends: `interrupted` when the service shut down or the store
 * failed under it (nobody decided it), else `cancelled`.
 */
export function endingOnAbort(reason: unknown): {
  status: 'interrupted' | 'cancelled';
  error: ErrorInfo;
} {
  if (
    NightshiftError.isInstance(reason) &&
    (reason.code === 'shutting_down' || reason.code === 'storage_unavailable')
  ) {
    return { status: 'interrupted', error: { code: 'interrupted', message: reason.message } };
  }
  return { status: 'cancelled', error: { code: 'cancelled', message: errorMessage(reason) } };
}
