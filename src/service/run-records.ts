import { emptyUsage, type RunRecord, type RunTrigger } from '../storage/contracts/index.js';

/** A fresh run record for a tick or a manual run. */
export function newRunRecord(input: {
  runId: string;
  agentId: string;
  trigger: RunTrigger;
  scheduledAt: Date;
  query: string;
  now: Date;
  /** The claiming process holds the run from the start, until `leaseExpiresAt` unless renewed. */
  leaseOwner: string;
  leaseExpiresAt: string;
}): RunRecord {
  return {
    run_id: input.runId,
    agent_id: input.agentId,
    trigger: input.trigger,
    scheduled_at: input.scheduledAt.toISOString(),
    created_at: input.now.toISOString(),
    started_at: null,
    ended_at: null,
    status: 'pending',
    query: input.query,
    attempts: [],
    output: null,
    output_json: null,
    error: null,
    usage: emptyUsage(),
    skip_reason: null,
    lease_owner: input.leaseOwner,
    lease_expires_at: input.leaseExpiresAt,
  };
}
