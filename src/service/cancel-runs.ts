import type { RunRecord, Store } from '../storage/contracts/index.js';
import type { EventPublisher } from './event-publisher.js';

/** Unfinished runs of one agent looked at per cancellation; an agent rarely has more than a few. */
const UNFINISHED_LIMIT = 1_000;

/** What {@link cancelRunsInStore} needs besides the store. */
export interface CancelRunsContext {
  store: Store;
  events: EventPublisher;
  now: () => Date;
  /** True for runs executing (or queued) in this process: those are cancelled where they run. */
  isLocal(runId: string): boolean;
}

/**
 * Ends an agent's unfinished runs held by other processes (another `nightshift run`, a BullMQ
 * worker) `cancelled`, on the record. Each is taken from its holder by a compare-and-set on its
 * lease owner and status, the way recovery takes a run over, so it ends once; the holder's next
 * fenced write (its heartbeat, within a third of the lease) finds the run gone, aborts what is
 * in flight (the model request, the tool) and writes nothing more. Returns the runs it ended.
 */
export async function cancelRunsInStore(
  context: CancelRunsContext,
  agentId: string,
  why: string,
): Promise<RunRecord[]> {
  const { store, events, now } = context;
  const unfinished = await store.runs.list(agentId, {
    status: ['pending', 'running'],
    limit: UNFINISHED_LIMIT,
  });
  const ended: RunRecord[] = [];
  for (const run of unfinished) {
    if (context.isLocal(run.run_id)) continue;
    const endedAt = now();
    const error = { code: 'cancelled', message: why };
    const record = await store.runs.update(
      run.run_id,
      {
        status: 'cancelled',
        ended_at: endedAt.toISOString(),
        error,
        lease_owner: null,
        lease_expires_at: null,
      },
      { lease_owner: run.lease_owner, status: [run.status] },
    );
    if (!record) continue;
    ended.push(record);
    await store.agents.updateStats(agentId, {
      run: {
        status: 'cancelled',
        ended_at: endedAt.toISOString(),
        duration_ms: run.started_at ? endedAt.getTime() - Date.parse(run.started_at) : 0,
        total_tokens: run.usage.total_tokens,
        error,
      },
    });
    await events.publish('background_task_error', agentId, run.run_id, {
      error,
      attempt: Math.max(1, run.attempts.length + (run.status === 'running' ? 1 : 0)),
      will_retry: false,
      status: 'cancelled',
    });
  }
  return ended;
}
