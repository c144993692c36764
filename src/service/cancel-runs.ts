import {
  UNFINISHED_STATUSES,
  type RunRecord,
  type RunStatus,
  type Store,
} from '../storage/contracts/index.js';
import type { RunTransitions } from './runs/run-transitions.js';

/** Unfinished runs of one agent looked at per cancellation; an agent rarely has more than a few. */
const UNFINISHED_LIMIT = 1_000;

/** What {@link cancelRunsInStore} needs. */
export interface CancelRunsContext {
  store: Store;
  transitions: RunTransitions;
  /** True for runs executing (or queued) in this process: those are cancelled where they run. */
  isLocal(runId: string): boolean;
}

/**
 * Ends an agent's unfinished runs held by other processes (another `nightshift run`, a BullMQ
 * worker) `cancelled`, on the record. Each is taken from its holder by a compare-and-set on its
 * lease owner and status, the way recovery takes a run over, so it ends once; the holder's next
 * fenced write (its heartbeat, within a third of the lease) finds the run gone, aborts what is
 * in flight (the model request, the tool) and writes nothing more. `statuses`: only runs in
 * these (a stop without cancelling ends just the waiting ones). Returns the runs it ended.
 */
export async function cancelRunsInStore(
  context: CancelRunsContext,
  agentId: string,
  why: string,
  statuses: readonly RunStatus[] = UNFINISHED_STATUSES,
): Promise<RunRecord[]> {
  const unfinished = await context.store.runs.list(agentId, {
    status: statuses,
    limit: UNFINISHED_LIMIT,
  });
  const ended: RunRecord[] = [];
  for (const run of unfinished) {
    if (context.isLocal(run.run_id)) continue;
    const cancelled = await context.transitions.cancel(run, why);
    if (cancelled) ended.push(cancelled.run);
  }
  return ended;
}
