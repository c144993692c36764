import type { EventLog, Store } from '../../storage/contracts/index.js';
import { PRUNE_LIMITS } from '../../storage/prune-limits.js';
import { addCounts, noCounts, type PruneReport, type RetentionCounts } from './retention-counts.js';
import type { RetentionTarget } from './retention-plan.js';

/** How one sweep goes. */
export interface SweepOptions {
  /** Count what would go; remove nothing. */
  dry_run: boolean;
  /**
   * Store calls per kind and agent in this sweep (each removing at most its batch); the next
   * sweep goes on from there. Unset: until nothing is left.
   */
  maxBatches?: number;
  /** Items per store call (default: the stores' own, 500 runs, 1,000 events or messages). */
  batchSize?: number;
  /** When the cutoffs were taken, for the report. */
  sweptAt: Date;
  /** Told what each store call removed, as it goes (for the metrics). */
  onRemoved?: (kind: keyof RetentionCounts, count: number) => void;
}

/**
 * Removes (or counts) what retention says must go, target by target, a bounded batch per store
 * call. Every store call is safe alongside another process's sweep: an item is removed, and
 * counted, once.
 */
export async function sweepRetention(
  { store, log }: { store: Store; log: EventLog },
  targets: readonly RetentionTarget[],
  options: SweepOptions,
): Promise<PruneReport> {
  const totals = noCounts();
  const agents: Record<string, RetentionCounts> = {};
  let complete = true;
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;

  /** Calls `batch` until it removes less than a full batch, or the sweep's budget is spent. */
  async function drain(
    kind: keyof RetentionCounts,
    size: number,
    batch: (limit: number) => Promise<number>,
  ): Promise<number> {
    if (options.dry_run) return batch(size);
    let removed = 0;
    for (let calls = 0; ; calls += 1) {
      if (calls >= maxBatches) {
        complete = false;
        return removed;
      }
      const count = await batch(size);
      removed += count;
      if (count > 0) options.onRemoved?.(kind, count);
      if (count < size) return removed;
    }
  }

  for (const target of targets) {
    const counts = noCounts();
    const { agent_id } = target;
    if (target.runs_before !== undefined) {
      const ended_before = target.runs_before;
      counts.runs = await drain('runs', options.batchSize ?? PRUNE_LIMITS.runs, async (limit) => {
        const runIds = await store.runs.pruneEnded({
          agent_id,
          ended_before,
          limit,
          dry_run: options.dry_run,
        });
        // A per_run session is its run's alone: it goes with the run.
        if (target.sessions_per_run && !options.dry_run) {
          for (const runId of runIds) await store.messages.clear(runId);
        }
        return runIds.length;
      });
    }
    if (target.events_before !== undefined) {
      const before = target.events_before;
      counts.events = await drain('events', options.batchSize ?? PRUNE_LIMITS.events, (limit) =>
        log.prune({ agent_id, before, limit, dry_run: options.dry_run }),
      );
    }
    if (target.session_id !== undefined && target.messages_per_session !== undefined) {
      const { session_id: sessionId, messages_per_session: keep } = target;
      counts.messages = await drain(
        'messages',
        options.batchSize ?? PRUNE_LIMITS.messages,
        (limit) => store.messages.trim(sessionId, { keep, limit, dry_run: options.dry_run }),
      );
    }
    addCounts(totals, counts);
    if (counts.runs + counts.events + counts.messages > 0) agents[agent_id] = counts;
  }
  return {
    dry_run: options.dry_run,
    swept_at: options.sweptAt.toISOString(),
    totals,
    agents,
    complete,
  };
}
