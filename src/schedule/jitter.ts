import { createHash } from 'node:crypto';

/**
 * How many milliseconds to delay the run of the tick `scheduledAt`, uniform in
 * [0, jitterSeconds × 1000). Deterministic: every process computes the same delay for the same
 * agent and tick, so spreading load never changes which tick a run belongs to (the run id still
 * comes from the undelayed `scheduledAt`). Each tick gets its own delay, so no agent is always late.
 */
export function jitterOffsetMs(agentId: string, scheduledAt: Date, jitterSeconds: number): number {
  if (!Number.isFinite(jitterSeconds) || jitterSeconds < 0) {
    throw new RangeError(`jitter: must be a number of seconds, at least 0 (got ${jitterSeconds})`);
  }
  if (jitterSeconds === 0) return 0;
  const digest = createHash('sha256').update(`${agentId}|${scheduledAt.toISOString()}`).digest();
  // 48 bits give a fraction in [0, 1) whose bias is far below a millisecond for any jitter.
  const fraction = digest.readUIntBE(0, 6) / 2 ** 48;
  return Math.floor(fraction * jitterSeconds * 1000);
}
