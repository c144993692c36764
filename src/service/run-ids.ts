import { randomBytes } from 'node:crypto';

/**
 * The run id of a scheduled tick, derived from the agent and the tick's nominal time only,
 * so every process that sees the tick derives the same id and the store lets one claim it.
 * (`.` cannot appear in an agent id, so the id splits unambiguously.)
 */
export function scheduledRunId(agentId: string, scheduledAt: Date): string {
  return `${agentId}.${scheduledAt.getTime()}`;
}

/** The run id of a manual run: unique, and still naming its agent and time. */
export function manualRunId(agentId: string, requestedAt: Date): string {
  return `${agentId}.manual-${requestedAt.getTime()}-${randomBytes(3).toString('hex')}`;
}
