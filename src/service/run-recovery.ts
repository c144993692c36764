import {
  emptyUsage,
  type AttemptRecord,
  type ErrorInfo,
  type RunRecord,
} from '../storage/contracts/index.js';
import type { ServiceContext } from './service-context.js';

/**
 * Runs whose lease expired (their process died) end `interrupted`, or go on here if retries
 * remain. Taking a run over is a compare-and-set on its lease, so one process recovers it, once.
 */
export async function recoverRuns(context: ServiceContext): Promise<void> {
  const { store, transitions } = await context.connect();
  const now = context.now();
  for (const run of await store.runs.listUnfinished()) {
    if (run.lease_expires_at && new Date(run.lease_expires_at) > now) continue;
    if (context.dispatcher?.completion(run.run_id)) continue;
    const taken = await transitions.takeOver(run);
    if (!taken) continue;
    const { agent } = taken;
    const attempt = run.attempts.length + 1;
    const error: ErrorInfo = {
      code: 'interrupted',
      message: 'the process running it stopped before it finished (its lease expired)',
    };
    const attempts = run.started_at
      ? [...run.attempts, interruptedAttempt(run, attempt, error, now)]
      : run.attempts;
    const willRetry =
      !!agent &&
      run.started_at !== null &&
      attempt <= agent.definition.task_config.max_retries &&
      agent.state !== 'stopped';
    const dispatcher = context.dispatcher;
    if (willRetry && agent && dispatcher) {
      await transitions.attemptFailed(run, { error, attempt, willRetry, status: 'interrupted' });
      const resumed = await transitions.retry(run.run_id, attempts, run.usage);
      if (resumed) context.background(dispatcher.resume(agent, resumed), `retrying ${run.run_id}`);
      continue;
    }
    await transitions.interrupt(taken.run, { error, attempt }, attempts);
  }
}

/** The attempt a dead process left running, as recovery records it. */
function interruptedAttempt(
  run: RunRecord,
  attempt: number,
  error: ErrorInfo,
  now: Date,
): AttemptRecord {
  return {
    attempt,
    started_at: run.started_at ?? run.created_at,
    ended_at: now.toISOString(),
    status: 'interrupted',
    error,
    usage: emptyUsage(),
    ...(run.lease_owner ? { worker_id: run.lease_owner } : {}),
  };
}
