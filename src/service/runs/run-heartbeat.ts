import type { RunTransitions } from './run-transitions.js';

/** How often a lease is renewed: every third of its TTL, so two renewals may fail before it lapses. */
export function renewalIntervalMs(leaseTtlMs: number): number {
  return Math.max(50, Math.floor(leaseTtlMs / 3));
}

/** What {@link keepRunHeld} reports. */
export interface RunHeartbeatHooks {
  /** False once the run is no longer this heartbeat's to keep: the heartbeat stops. */
  active?: () => boolean;
  /** Another process has taken the run (or cancelled it). */
  onLost?: () => void;
  onError(error: unknown): void;
}

/**
 * Renews this process's lease on a run that waits here (queued, or recovered and waiting for the
 * overlap lease) as a running run's heartbeat does; without it, recovery would take the waiting
 * run over. Returns the timer to clear.
 */
export function keepRunHeld(
  transitions: RunTransitions,
  runId: string,
  leaseTtlMs: number,
  hooks: RunHeartbeatHooks,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    if (hooks.active && !hooks.active()) return clearInterval(timer);
    void transitions
      .heartbeat(runId)
      .then((record) => {
        if (!record) hooks.onLost?.();
      })
      .catch((error: unknown) => hooks.onError(error));
  }, renewalIntervalMs(leaseTtlMs));
  timer.unref();
  return timer;
}
