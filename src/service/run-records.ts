import {
  emptyUsage,
  type ReplayMode,
  type RunRecord,
  type RunTrigger,
} from '../storage/contracts/index.js';

/** A fresh run record for a tick, a manual run or a replay. */
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
  /** A replay (`trigger: replay`): the run it replays, and how. Absent on every other run. */
  replayOf?: string;
  replayMode?: ReplayMode;
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
    ...(input.replayOf === undefined ? {} : { replay_of: input.replayOf }),
    ...(input.replayMode === undefined ? {} : { replay_mode: { ...input.replayMode } }),
  };
}
